// axpy_fragment: C = A + alpha * B in float32 (examples/axpy_fragment.tl).
//
// The reference is computed in double; an element passes within 2^-22 of
// |a| + |alpha * b| (covers a fused or an unfused multiply-add, one or two roundings).
// Shapes: full tiles, ragged 63x257 (partial edge tiles in both axes), 16384^2.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "axpy_fragment.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// `offset` shifts A, B and C by that many bytes; `wantEntry`, when given, is the
// variant the launcher must pick.
void testShape(int M, int N, size_t offset = 0, const char* wantEntry = nullptr) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(float);
  const float alpha = 1.75f;
  Checker check(0, std::ldexp(1.0, -22));

  std::vector<float> a(count), b(count), c(count);
  fillUniform(a, 11u * M + N);
  fillUniform(b, 13u * M + N);
  const int sets = rotationSets(3 * bytes);
  std::vector<DeviceBuffer> as, bs, cs;
  for (int s = 0; s < sets; ++s) {
    as.emplace_back(bytes, offset);
    bs.emplace_back(bytes, offset);
    cs.emplace_back(bytes, offset);
  }
  as[0].upload(a.data());
  bs[0].upload(b.data());
  for (int s = 1; s < sets; ++s) {
    as[s].copyFrom(as[0]);
    bs[s].copyFrom(bs[0]);
  }
  cs[0].poison();

  const int variant = axpy_select_variant(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N, alpha);
  const char* entry = axpy_variant_entry(variant);
  const std::string shape = shapeString({M, N}, "fp32") + (offset ? " A,B,C+" + std::to_string(offset) + "B" : "");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);
  if (launchAndWait(axpy_launch(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N, alpha, g.stream), check)) {
    cs[0].download(c.data());
    for (size_t i = 0; i < count; ++i) {
      double product = double(alpha) * double(b[i]);
      check.add(i, c[i], double(a[i]) + product, std::fabs(a[i]) + std::fabs(product));
    }
    if (!cs[0].guardsIntact()) check.fail("wrote outside C");
  }

  Result r;
  r.name = "axpy_fragment";
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = 3.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int rep) {
      int s = rep % sets;
      return axpy_launch(as[s].ptr(), bs[s].ptr(), cs[s].ptr(), M, N, alpha, g.stream);
    });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# axpy_fragment on %s\n", gpu().name.c_str());
  testShape(1000, 1000, 0, "axpy_aligned");
  testShape(1000, 1000, 8, "axpy");  // 8 bytes past 16-byte alignment: the general variant
  testShape(63, 257);
  testShape(1, 1);
  testShape(16384, 16384);
  return finish();
}
