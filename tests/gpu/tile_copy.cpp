// tile_copy: B = A through shared memory (examples/tile_copy.tl), bit-exact.
//
// Built once per compiled configuration (scripts/build_gpu_tests.sh): the default is
// fp16; TLC_KERNEL_HEADER, TLC_TEST_NAME, TLC_ELEM_BYTES and TLC_DTYPE_NAME select
// another (`-D DT=float32`, other tile sizes). Shapes cover a full tile grid, a
// single element, ragged edges, an odd N and a base pointer 2 bytes off 16-byte
// alignment (both must run the general variant), the argument checks, and 16384^2
// for bandwidth. With TLC_EXPECT_ARCH (a header built for several --arch values,
// e.g. sm_90a + sm_100a), the cubin the header picked for this device must be that
// one ("arch picked" row; `<prefix>_arch()` and `<kernel>_info()->arch` say which).
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tile_copy.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "tile_copy"
#endif
#ifndef TLC_ELEM_BYTES
#define TLC_ELEM_BYTES 2
#endif
#ifndef TLC_DTYPE_NAME
#define TLC_DTYPE_NAME "fp16"
#endif

#include TLC_KERNEL_HEADER

using namespace gpu_test;

using Elem = RawBits<TLC_ELEM_BYTES>;  // 2 or 4

namespace {

// One shape; `offset` shifts both base pointers by that many bytes (a sub-view of a
// larger allocation). `wantEntry`, when given, is the variant the launcher must pick.
void testShape(int M, int N, size_t offset, bool time = true, const char* wantEntry = nullptr,
               size_t outputOffset = SIZE_MAX) {
  if (outputOffset == SIZE_MAX) outputOffset = offset;
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(Elem);
  std::string shape = shapeString({M, N}, TLC_DTYPE_NAME);
  if (outputOffset != offset) shape += " A+" + std::to_string(offset) + "B B+" + std::to_string(outputOffset) + "B";
  else if (offset) shape += " A,B+" + std::to_string(offset) + "B";
  Checker check;

  std::vector<Elem> a(count);
  fillRandomBits(a, 1000003u * M + N);
  const int sets = rotationSets(2 * bytes);
  std::vector<DeviceBuffer> as = bufferSets(sets, bytes, offset), bs = bufferSets(sets, bytes, outputOffset);
  fillSets(as, a);
  bs[0].poison();

  const int variant = tile_copy_select_variant(as[0].ptr(), bs[0].ptr(), M, N);
  const char* entry = tile_copy_variant_entry(variant);
  // Whatever the specialized variants assume, an odd N or a pointer off 16-byte
  // alignment must fall through to the general one: the entry named like the kernel
  // (by name, not by index: a multi-arch header lists each arch's variants in turn).
  if ((N % 2 != 0 || offset % 16 != 0 || outputOffset % 16 != 0) && !isGeneralEntry(entry, "tile_copy"))
    check.fail("a specialized variant was picked for an odd N or a misaligned pointer");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);

  if (launchAndWait(tile_copy_launch(as[0].ptr(), bs[0].ptr(), M, N, g.stream), check))
    checkBitExact(check, bs[0], a, "B", as[0], "A");

  Result r = untimedResult(TLC_TEST_NAME, shape, false, entry ? entry : "?");
  r.bytes = 2.0 * bytes;
  reportChecked(r, check, time, [&](int rep) {
    return tile_copy_launch(as[rep % sets].ptr(), bs[rep % sets].ptr(), M, N, g.stream);
  });
}

// Empty shapes launch nothing and succeed; negative dimensions and null pointers
// are refused; nothing is written in either case.
void testArgumentChecks() {
  Gpu& g = gpu();
  Checker check;
  DeviceBuffer a(64 * 64 * sizeof(Elem)), b(64 * 64 * sizeof(Elem));
  b.poison();
  auto expect = [&](CUresult got, CUresult want, const char* what) {
    if (got != want) {
      std::fprintf(stderr, "    %s: got %s, want %s\n", what, errorName(got), errorName(want));
      check.fail(what);
    }
  };
  expect(tile_copy_launch(a.ptr(), b.ptr(), 0, 64, g.stream), CUDA_SUCCESS, "M = 0");
  expect(tile_copy_launch(a.ptr(), b.ptr(), 64, 0, g.stream), CUDA_SUCCESS, "N = 0");
  expect(tile_copy_launch(a.ptr(), b.ptr(), -1, 64, g.stream), CUDA_ERROR_INVALID_VALUE, "M = -1");
  expect(tile_copy_launch(0, b.ptr(), 64, 64, g.stream), CUDA_ERROR_INVALID_VALUE, "A = NULL");
  // A pointer off its element's alignment (1 byte is an int8 element's own).
  if (sizeof(Elem) > 1) expect(tile_copy_launch(a.ptr() + 1, b.ptr(), 64, 64, g.stream), CUDA_ERROR_INVALID_VALUE, "A + 1 byte");
  if (!b.untouchedSincePoison()) check.fail("a refused or empty launch wrote to B");
  report(untimedResult(TLC_TEST_NAME, "argument checks", check.passed()));
}

#ifdef TLC_EXPECT_ARCH
// The header embeds one cubin per --arch and loads the one for this device's compute
// capability; both ways of asking which one it took must name TLC_EXPECT_ARCH.
void testArchPicked() {
  Checker check;
  const char* picked = tile_copy_arch();
  const tlc_kernel_info* info = tile_copy_info(0);
  std::printf("# the header embeds %s; this device runs the %s cubin\n", info ? info->arch : "?",
              picked ? picked : "(none)");
  if (!picked || std::strcmp(picked, TLC_EXPECT_ARCH) != 0) check.fail("tile_copy_arch() is not " TLC_EXPECT_ARCH);
  report(untimedResult(TLC_TEST_NAME,
                       std::string("arch picked: ") + (picked ? picked : "none") + " (want " TLC_EXPECT_ARCH ")",
                       check.passed()));
}
#endif

}  // namespace

int main() {
  printVariants(TLC_TEST_NAME, tile_copy_variant_entry);
#ifdef TLC_EXPECT_ARCH
  testArchPicked();
#endif
  testShape(1000, 1000, 0, true, 1000 % (16 / sizeof(Elem)) == 0 ? "tile_copy_aligned" : "tile_copy");
  testShape(1, 1, 0);
  testShape(129, 130, 0);
  testShape(1001, 999, 0);
  testShape(1000, 1000, sizeof(Elem), true, "tile_copy");  // 2 bytes past 16-byte alignment for fp16
  testShape(1000, 1000, 8, false, "tile_copy");             // 8 bytes past: still the general variant
  // Every misalignment of A (each multiple of the element size below 16 bytes) against
  // another of B, on a ragged shape: the general variant for all of them.
  for (size_t a = 0; a < 16; a += sizeof(Elem))
    testShape(67, 301, a, false, "tile_copy", (a * 3 + sizeof(Elem)) % 16);
  testShape(4096, 4096, sizeof(Elem));
  testArgumentChecks();
  testShape(16384, 16384, 0);
  return finish();
}
