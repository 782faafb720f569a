// region_helpers: copies whose operands are the region helpers (region,
// buffer_to_tile_region, buffer_load_to_tile_region, buffer_region_to_tile_region;
// tests/gpu/kernels/region_helpers.tl): B = 2 * A through a shared tile and a
// fragment, C = A through two clamped halves of the tile. fp32, random A, B and C
// poisoned, every element compared bit-exactly (doubling is exact), nothing written
// outside B or C. Ragged shapes (primes, 1, not multiples of the 32 x 64 tile) and
// bases 4 bytes off 16-byte alignment, which must run the general variant.
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "region_helpers.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * 4;
  std::string shape = shapeString({M, N}, "fp32") + (offset ? " +" + std::to_string(offset) + "B" : "");
  Checker check;
  std::vector<float> a(count);
  fillUniform(a, 7919u * M + N, -4.0f, 4.0f);
  std::vector<uint32_t> aBits(count), twice(count);
  std::memcpy(aBits.data(), a.data(), bytes);
  for (size_t i = 0; i < count; ++i) {
    float t = a[i] * 2.0f;
    std::memcpy(&twice[i], &t, 4);
  }
  DeviceBuffer da(bytes, offset), db(bytes, offset), dc(bytes, offset);
  da.upload(a.data());
  db.poison();
  dc.poison();
  const char* entry = region_helpers_variant_entry(region_helpers_select_variant(da.ptr(), db.ptr(), dc.ptr(), M, N));
  if ((offset % 16 != 0 || N % 4 != 0) && !isGeneralEntry(entry, "region_helpers"))
    check.fail("a specialized variant was picked for a misaligned base or N % 4 != 0");
  if (launchAndWait(region_helpers_launch(da.ptr(), db.ptr(), dc.ptr(), M, N, g.stream), check)) {
    checkBitExact(check, db, twice, "B", da, "A");
    checkBitExact(check, dc, aBits, "C", da, "A");
  }
  report(untimedResult("region_helpers", shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  printVariants("region_helpers", region_helpers_variant_entry);
  testShape(37, 131, 0);   // ragged both ways, N % 4 != 0
  testShape(1, 1, 0);
  testShape(64, 128, 0);   // whole tiles: the aligned variant
  testShape(65, 132, 0);   // a tile and a row, N % 4 == 0
  testShape(97, 200, 4);   // misaligned bases: the general variant
  testShape(1000, 1000, 0);
  return finish();
}
