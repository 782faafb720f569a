// elem_offset: B = A where A's element (0, 0) lies `off` elements past the pointer
// (tests/gpu/kernels/elem_offset_copy.tl), bit-exact. Offsets that keep 16-byte
// alignment run the vectorized variant; the others must fall back to the general one.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "elem_offset_copy.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N, int off) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint32_t> a(count + off), b(count);
  fillRandomBits(a, 7919u * M + N + off);
  DeviceBuffer da((count + off) * 4), db(count * 4);
  da.upload(a.data());
  db.poison();
  const int variant = offset_copy_select_variant(da.ptr(), db.ptr(), M, N, off);
  if (launchAndWait(offset_copy_launch(da.ptr(), db.ptr(), M, N, off, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i + off]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "elem_offset";
  r.shape = shapeString({M, N}, "fp32") + " off=" + std::to_string(off);
  r.variant = offset_copy_variant_entry(variant) ? offset_copy_variant_entry(variant) : "?";
  r.bytes = 2.0 * count * 4;
  if (check.passed() && count >= (1u << 22))
    r.ms = medianMs([&](int) { return offset_copy_launch(da.ptr(), db.ptr(), M, N, off, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  testShape(1000, 1000, 4);  // aligned: the vectorized variant
  testShape(1000, 1000, 3);  // misaligned: the general variant
  testShape(129, 130, 1);
  testShape(1, 1, 0);
  testShape(4096, 4096, 8);
  return finish();
}
