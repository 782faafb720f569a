// launcher_hostile: what a generated launcher does with wrong or unusual arguments
// (issue 9, docs/robustness.md), on a copy kernel B = A (fp16, M and N symbolic):
// examples/tile_copy.tl (cp.async, vectors), tests/gpu/kernels/tile_copy_prefer_tma.tl
// (TMA load and store), and tile_copy.tl with 224 KB and with exactly the device's
// 227 KB of dynamic shared memory.
//
// Refused before anything runs, with CUDA_ERROR_INVALID_VALUE and a message from
// <prefix>_last_error() that names the launch function AND the offending argument,
// nothing written (the poisoned output and its guard zones stay as they were):
//   null pointers; pointers not aligned to an element; negative dimensions; a grid
//   larger than the device allows (M = INT32_MAX: 16777216 blocks in y, the limit is
//   65535).
// Run on the general (fallback) variant, bit-exact, nothing written outside B, and
// no message set (last_error is for failures; a fallback is not one):
//   pointers 2, 6 or 10 bytes off 16-byte alignment (TMA and 16-byte vector operands),
//   one of them or both; a row stride that is not a multiple of 16 bytes (odd N).
//   launcher_hostile_strided.cpp does the same for a StridedTensor's stride.
// Succeed without launching and without a message: zero sizes, with any pointers.
// Symbolic dimensions that disagree between tensors cannot be passed: each name is
// one launcher argument (checked below at compile time, from the launcher's type).
// Dynamic shared memory beyond the device's limit is refused at compile time
// (tests/golden/limits), and for a device smaller than the kernel's target by the
// launcher, which names both sizes: launcher_smem_limit.cpp tests that refusal on the
// real GPU under a shim that pretends a smaller limit, tests/unit/test_header.cpp
// against a mock driver.
#include "harness.h"

#include <climits>
#include <initializer_list>
#include <string>
#include <type_traits>

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tile_copy.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "launcher_hostile"
#endif
// The header's prefix is the .tl file's stem: tile_copy, tile_copy_prefer_tma.
#ifndef TLC_LAST_ERROR
#define TLC_LAST_ERROR tile_copy_last_error
#endif

#include TLC_KERNEL_HEADER

using namespace gpu_test;

// M and N are one argument each, shared by A and B: they cannot disagree.
static_assert(std::is_same_v<decltype(&tile_copy_launch),
                             CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream)>,
              "tile_copy_launch takes A, B, then M and N once each, then the stream");

namespace {

using Elem = uint16_t;

std::string lastError() { return TLC_LAST_ERROR(); }

// One refusal per row: the CUresult, the message (it must name the launcher and hold
// `want`, which names the argument), and B and its guards untouched.
void testRefused(const char* what, int32_t M, int32_t N, bool nullA, bool nullB, size_t offsetA, size_t offsetB,
                 std::initializer_list<std::string> want) {
  Gpu& g = gpu();
  const int32_t rows = 256, cols = 256;
  DeviceBuffer a(size_t(rows) * cols * sizeof(Elem), offsetA), b(size_t(rows) * cols * sizeof(Elem), offsetB);
  b.poison();
  CUresult got = tile_copy_launch(nullA ? 0 : a.ptr(), nullB ? 0 : b.ptr(), M, N, g.stream);
  bool pass = isRefusal(what, got, lastError(), "tile_copy_launch", want);
  bool untouched = b.untouchedSincePoison() && a.guardsIntact();
  if (!untouched) std::fprintf(stderr, "    %s: a refused launch wrote to B\n", what);
  report(untimedResult(TLC_TEST_NAME, std::string("refused: ") + what, pass && untouched));
}

// Zero sizes: success, nothing launched, nothing written, no message.
void testEmpty() {
  Gpu& g = gpu();
  DeviceBuffer a(4096), b(4096);
  b.poison();
  // A refusal first, so that "no message" means "the message did not change".
  tile_copy_launch(0, 0, 1, 1, g.stream);
  std::string before = lastError();
  bool pass = tile_copy_launch(a.ptr(), b.ptr(), 0, 256, g.stream) == CUDA_SUCCESS &&
              tile_copy_launch(a.ptr(), b.ptr(), 256, 0, g.stream) == CUDA_SUCCESS &&
              tile_copy_launch(0, 0, 0, 0, g.stream) == CUDA_SUCCESS &&
              tile_copy_launch(a.ptr() + 1, 0, 0, INT32_MAX, g.stream) == CUDA_SUCCESS;
  if (lastError() != before) {
    std::fprintf(stderr, "    an empty launch changed last_error to '%s'\n", lastError().c_str());
    pass = false;
  }
  if (!b.untouchedSincePoison()) {
    std::fprintf(stderr, "    an empty launch wrote to B\n");
    pass = false;
  }
  report(untimedResult(TLC_TEST_NAME, "M = 0, N = 0, both, with NULL or odd pointers: no-op success", pass));
}

// Valid but unaligned arguments run correctly on the general variant (or, aligned,
// on the specialized one), and set no message.
void testRuns(int32_t M, int32_t N, size_t offsetA, size_t offsetB, const std::string& shape, int wantVariant) {
  Gpu& g = gpu();
  Checker check;
  size_t count = size_t(M) * N;
  std::vector<Elem> in(count);
  fillRandomBits(in, 0x9 + M * 31 + N + offsetA * 7 + offsetB);
  DeviceBuffer a(count * sizeof(Elem), offsetA), b(count * sizeof(Elem), offsetB);
  a.upload(in.data());
  b.poison();
  tile_copy_launch(0, 0, 1, 1, g.stream);  // a known message to compare with
  std::string before = lastError();
  int variant = tile_copy_select_variant(a.ptr(), b.ptr(), M, N);
  expectVariant(check, variant, wantVariant);
  if (launchAndWait(tile_copy_launch(a.ptr(), b.ptr(), M, N, g.stream), check))
    checkBitExact(check, b, in, "B", a, "A");
  if (lastError() != before) check.fail("a launch that ran changed last_error");
  reportChecked(untimedResult(TLC_TEST_NAME, shape, false, tile_copy_variant_entry(variant)), check, false, nullptr);
}

}  // namespace

int main() {
  const tlc_kernel_info* info = tile_copy_info(0);
  std::printf("# %s on %s (%s; dynamic shared memory per block: %u bytes)\n", TLC_TEST_NAME, gpu().name.c_str(),
              info ? info->entry : "?", info ? info->shared_bytes : 0u);
  testRefused("A = NULL", 256, 256, true, false, 0, 0, {"argument 'A' is a null pointer"});
  testRefused("B = NULL", 256, 256, false, true, 0, 0, {"argument 'B' is a null pointer"});
  testRefused("A = B = NULL", 256, 256, true, true, 0, 0, {"argument 'A' is a null pointer"});
  testRefused("A + 1 byte", 256, 256, false, false, 1, 0,
              {"argument 'A' = 0x", "is not aligned to its 2-byte float16 elements"});
  testRefused("B + 1 byte", 256, 256, false, false, 0, 1,
              {"argument 'B' = 0x", "is not aligned to its 2-byte float16 elements"});
  testRefused("B + 3 bytes, A = NULL", 256, 256, true, false, 0, 3, {"argument 'A' is a null pointer"});
  testRefused("M = -1", -1, 256, false, false, 0, 0, {"dimension 'M' = -1 must not be negative"});
  testRefused("N = -3", 256, -3, false, false, 0, 0, {"dimension 'N' = -3 must not be negative"});
  testRefused("M = N = INT32_MIN", INT32_MIN, INT32_MIN, false, false, 0, 0,
              {"dimension 'M' = -2147483648 must not be negative"});
  testRefused("M = INT32_MAX: grid y", INT32_MAX, 8, false, false, 0, 0,
              {"grid y = ceildiv(M, ", "exceeds the device limit of 65535 blocks"});
  testRefused("M = INT32_MAX, A = NULL", INT32_MAX, 8, true, false, 0, 0, {"grid y = ceildiv(M, "});
  testEmpty();
  // Aligned first (the specialized variant), then each way off 16 bytes.
  testRuns(300, 1024, 0, 0, "300x1024 aligned", 0);
  testRuns(300, 1024, 2, 0, "300x1024, A 2 bytes off 16", 1);
  testRuns(300, 1024, 0, 2, "300x1024, B 2 bytes off 16", 1);
  testRuns(300, 1024, 6, 10, "300x1024, A and B off 16", 1);
  testRuns(257, 1001, 0, 0, "257x1001, row stride 2002 B (not 16k)", 1);
  testRuns(129, 1028, 0, 0, "129x1028, row stride 2056 B (8k, not 16k)", 1);
  testRuns(1024, 1024, 0, 0, "1024x1024 aligned", 0);
  return finish();
}
