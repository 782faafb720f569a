// transpose_parts: transpose of parts of shared tiles (tests/gpu/kernels/transpose_parts.tl):
// B = A^T (M x N fp32) where each 64 x 64 tile is transposed in pieces, by the two
// row halves (transpose_halves) and by four regions, one starting at column 2
// (transpose_pieces). Random A, B poisoned, bit-exact, nothing written outside B;
// ragged shapes (primes, 1, not multiples of 64) and bases 4 bytes off 16-byte
// alignment, which must run each kernel's general variant.
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "transpose_parts.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using LaunchFn = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using SelectFn = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);

void testShape(const char* name, LaunchFn launch, SelectFn select, VariantEntryFn entryOf, int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * 4;
  std::string shape = shapeString({M, N}, "fp32") + (offset ? " +" + std::to_string(offset) + "B" : "");
  Checker check;
  std::vector<uint32_t> a(count), want(count);
  fillRandomBits(a, 2654435761u * M + N);
  for (size_t i = 0; i < size_t(M); ++i)
    for (size_t j = 0; j < size_t(N); ++j) want[j * M + i] = a[i * N + j];
  DeviceBuffer da(bytes, offset), db(bytes, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = entryOf(select(da.ptr(), db.ptr(), M, N));
  if (offset % 16 != 0 && !isGeneralEntry(entry, name)) check.fail("a specialized variant was picked for a misaligned base");
  if (launchAndWait(launch(da.ptr(), db.ptr(), M, N, g.stream), check)) checkBitExact(check, db, want, "B", da, "A");
  report(untimedResult(name, shape, check.passed(), entry ? entry : "?"));
}

void testKernel(const char* name, LaunchFn launch, SelectFn select, VariantEntryFn entryOf) {
  printVariants(name, entryOf);
  testShape(name, launch, select, entryOf, 37, 131, 0);  // ragged both ways
  testShape(name, launch, select, entryOf, 1, 1, 0);
  testShape(name, launch, select, entryOf, 64, 64, 0);   // one whole tile: the aligned variant
  testShape(name, launch, select, entryOf, 65, 128, 0);
  testShape(name, launch, select, entryOf, 130, 66, 4);  // misaligned bases: the general variant
  testShape(name, launch, select, entryOf, 1000, 1000, 0);
}

}  // namespace

int main() {
  testKernel("transpose_halves", transpose_halves_launch, transpose_halves_select_variant, transpose_halves_variant_entry);
  testKernel("transpose_pieces", transpose_pieces_launch, transpose_pieces_select_variant, transpose_pieces_variant_entry);
  return finish();
}
