// transpose: At = A^T through two shared tiles and tlc's shared-memory transpose
// (the spec's transpose.tl, and examples/transpose.tl built for fp16 / fp32 and
// other tile sizes with -D), bit-exact.
//
// TLC_KERNEL_HEADER, TLC_TEST_NAME, TLC_ELEM_BYTES and TLC_DTYPE_NAME select the
// configuration (scripts/build_gpu_tests.sh). Every element of At is compared after
// poisoning it: a full tile grid, 1x1, 65x63, ragged 1000x3000 and 3000x1000, a
// pointer off 16-byte alignment (the general variant), then 8192^2 fp32 or
// 16384^2 fp16 (the benchmark sizes).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "transpose.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "transpose"
#endif
#ifndef TLC_ELEM_BYTES
#define TLC_ELEM_BYTES 4
#endif
#ifndef TLC_DTYPE_NAME
#define TLC_DTYPE_NAME "fp32"
#endif

#include TLC_KERNEL_HEADER

using namespace gpu_test;

using Elem = RawBits<TLC_ELEM_BYTES>;  // 2 or 4

namespace {

void testShape(int M, int N, size_t offset, bool time = true, const char* wantEntry = nullptr,
               size_t outputOffset = SIZE_MAX) {
  if (outputOffset == SIZE_MAX) outputOffset = offset;
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(Elem);
  std::string shape = shapeString({M, N}, TLC_DTYPE_NAME);
  if (outputOffset != offset) shape += " A+" + std::to_string(offset) + "B At+" + std::to_string(outputOffset) + "B";
  else if (offset) shape += " A,At+" + std::to_string(offset) + "B";
  Checker check;

  std::vector<Elem> a(count), want(count);
  fillRandomBits(a, 7919u * M + N);
  for (size_t m = 0; m < size_t(M); ++m)
    for (size_t n = 0; n < size_t(N); ++n) want[n * M + m] = a[m * N + n];
  const int sets = time ? rotationSets(2 * bytes) : 1;
  std::vector<DeviceBuffer> as = bufferSets(sets, bytes, offset), ats = bufferSets(sets, bytes, outputOffset);
  fillSets(as, a);
  ats[0].poison();

  const int variant = transpose2d_select_variant(as[0].ptr(), ats[0].ptr(), M, N);
  const char* entry = transpose2d_variant_entry(variant);
  if ((offset % 16 != 0 || outputOffset % 16 != 0) && !isGeneralEntry(entry, "transpose2d"))
    check.fail("a specialized variant was picked for a pointer off 16-byte alignment");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);

  if (launchAndWait(transpose2d_launch(as[0].ptr(), ats[0].ptr(), M, N, g.stream), check))
    checkBitExact(check, ats[0], want, "At", as[0], "A");

  Result r = untimedResult(TLC_TEST_NAME, shape, false, entry ? entry : "?");
  r.bytes = 2.0 * bytes;
  reportChecked(r, check, time, [&](int rep) {
    return transpose2d_launch(as[rep % sets].ptr(), ats[rep % sets].ptr(), M, N, g.stream);
  });
}

}  // namespace

int main() {
  printVariants(TLC_TEST_NAME, transpose2d_variant_entry);
  testShape(1, 1, 0, false);
  testShape(65, 63, 0, false);
  testShape(256, 512, 0, false);
  testShape(1000, 3000, 0, true, "transpose2d_aligned");
  testShape(3000, 1000, 0, false);
  testShape(1000, 3000, sizeof(Elem), true, "transpose2d");  // off 16-byte alignment: the general variant
  testShape(1000, 3000, 8, false, "transpose2d");             // 8 bytes past 16: the general variant too
  // Every misalignment of A against another of At, ragged: the general variant.
  for (size_t a = 0; a < 16; a += sizeof(Elem))
    testShape(131, 67, a, false, "transpose2d", (a * 3 + sizeof(Elem)) % 16);
#if TLC_ELEM_BYTES == 2
  testShape(16384, 16384, 0);
#else
  testShape(8192, 8192, 0);
#endif
  return finish();
}
