// launcher_smem_limit: the launcher's answer to a kernel whose dynamic shared memory
// exceeds the device's opt-in limit per block, on the real GPU (issue 9, item 4;
// docs/robustness.md, the launcher table). Kernel: examples/tile_copy.tl (B = A,
// fp16, M and N symbolic) with the tile the configuration chooses (BM x BN x 2 bytes
// of dynamic shared memory).
//
// No GPU here has less shared memory than its target, so the configurations that
// test the refusal run under smem_limit_shim.c (LD_PRELOAD; TLC_SHIM_SMEM_OPTIN is a
// smaller pretended limit; scripts/build_gpu_tests.sh writes the wrapper that sets
// both). The program first checks that the shim is in effect where it is set: its own
// cuDeviceGetAttribute, resolved as the header's is, must return the pretended limit.
//
// For both variants (aligned pointers: the specialized one; A 2 bytes off 16: the
// general one), on a ragged shape (500 x 1096: neither a multiple of the tile):
//   TLC_EXPECT_REFUSED=1: tile_copy_launch returns CUDA_ERROR_INVALID_VALUE, and
//     tile_copy_last_error() names the kernel's need ("dynamic shared memory 232448 B")
//     and the device's limit ("opt-in limit of 101376 B per block"); B, poisoned, and
//     the guard zones around A and B are untouched.
//   otherwise: the kernel runs; every element of B is compared bit-exactly with A,
//     nothing is written outside B, and last_error does not change.
#include "harness.h"

#include <string>

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tile_copy.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "launcher_smem_limit"
#endif
#ifndef TLC_EXPECT_REFUSED
#define TLC_EXPECT_REFUSED 0
#endif

#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using Elem = uint16_t;
constexpr int32_t kRows = 500, kCols = 1096;  // ragged for every tile used; rows of 2192 B (16k)

std::string lastError() { return tile_copy_last_error(); }

// One launch of B = A with A `offsetA` bytes off its allocation's 16-byte alignment.
void testLaunch(size_t offsetA, int wantVariant, int limit) {
  Gpu& g = gpu();
  const int32_t M = kRows, N = kCols;
  size_t count = size_t(M) * N;
  std::vector<Elem> in(count);
  fillRandomBits(in, 0x5EED + offsetA);
  DeviceBuffer a(count * sizeof(Elem), offsetA), b(count * sizeof(Elem));
  a.upload(in.data());
  b.poison();
  tile_copy_launch(0, 0, 1, 1, g.stream);  // a known message to compare with
  std::string before = lastError();
  int variant = tile_copy_select_variant(a.ptr(), b.ptr(), M, N);
  const tlc_kernel_info* info = tile_copy_info(variant);
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + (offsetA ? ", A 2 bytes off 16" : " aligned") +
                      ", needs " + std::to_string(info->shared_bytes) + " B of " + std::to_string(limit) + " B";
  Checker check;
  expectVariant(check, variant, wantVariant);
  if (TLC_EXPECT_REFUSED) {
    CUresult got = tile_copy_launch(a.ptr(), b.ptr(), M, N, g.stream);
    std::string need = "dynamic shared memory " + std::to_string(info->shared_bytes) + " B (and ";
    std::string device = " B static) exceeds the device's opt-in limit of " + std::to_string(limit) + " B per block";
    if (!isRefusal("shared memory beyond the device", got, lastError(), "tile_copy_launch", {need, device}))
      check.fail("not refused as it should be");
    if (!b.untouchedSincePoison()) check.fail("a refused launch wrote to B");
    if (!a.guardsIntact()) check.fail("a refused launch wrote outside A");
    report(untimedResult(TLC_TEST_NAME, "refused: " + shape, check.passed(), tile_copy_variant_entry(variant)));
    return;
  }
  if (launchAndWait(tile_copy_launch(a.ptr(), b.ptr(), M, N, g.stream), check))
    checkBitExact(check, b, in, "B", a, "A");
  if (lastError() != before) check.fail("a launch that ran changed last_error");
  reportChecked(untimedResult(TLC_TEST_NAME, "runs: " + shape, false, tile_copy_variant_entry(variant)), check,
                false, nullptr);
}

}  // namespace

int main() {
  Gpu& g = gpu();
  int limit = 0;
  CU_CHECK(cuDeviceGetAttribute(&limit, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, g.device));
  const char* pretended = std::getenv("TLC_SHIM_SMEM_OPTIN");
  bool shimmed = pretended && *pretended;
  std::printf("# %s on %s: tile needs %u B of dynamic shared memory; opt-in limit %d B (%s)\n", TLC_TEST_NAME,
              g.name.c_str(), tile_copy_info(0)->shared_bytes, limit,
              shimmed ? "pretended by smem_limit_shim" : "the device's own");
  // The shim must be in effect where it is asked for: otherwise a refusal would not
  // be tested at all.
  if (shimmed && std::to_string(limit) != pretended) {
    std::fprintf(stderr, "    TLC_SHIM_SMEM_OPTIN=%s but the device reports %d B: the shim is not preloaded\n",
                 pretended, limit);
    report(untimedResult(TLC_TEST_NAME, "shim in effect", false));
    return finish();
  }
  // The configuration must say what this tile and this limit mean.
  bool needsMore = static_cast<long long>(tile_copy_info(0)->shared_bytes) > limit;
  if (needsMore != (TLC_EXPECT_REFUSED != 0)) {
    std::fprintf(stderr, "    the tile needs %u B, the limit is %d B, but TLC_EXPECT_REFUSED=%d\n",
                 tile_copy_info(0)->shared_bytes, limit, TLC_EXPECT_REFUSED);
    report(untimedResult(TLC_TEST_NAME, "configuration", false));
    return finish();
  }
  testLaunch(0, 0, limit);
  testLaunch(2, 1, limit);
  return finish();
}
