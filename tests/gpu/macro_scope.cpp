// macro_scope: B = 2 A (through a shared tile) and C = 3 A (through a fragment),
// the same macro body at two scopes (examples/macro_scope.tl), float32.
//
// Each output is one multiplication: exact against the CPU (0 ULP).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "macro_scope.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(float);
  Checker check;

  std::vector<float> a(count), b(count), c(count);
  fillUniform(a, 19u * M + N, -10.0f, 10.0f);
  const int sets = rotationSets(3 * bytes);
  std::vector<DeviceBuffer> as, bs, cs;
  for (int s = 0; s < sets; ++s) {
    as.emplace_back(bytes);
    bs.emplace_back(bytes);
    cs.emplace_back(bytes);
  }
  as[0].upload(a.data());
  for (int s = 1; s < sets; ++s) as[s].copyFrom(as[0]);
  bs[0].poison();
  cs[0].poison();

  const char* entry = twice_variant_entry(twice_select_variant(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N));
  if (launchAndWait(twice_launch(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N, g.stream), check)) {
    bs[0].download(b.data());
    cs[0].download(c.data());
    for (size_t i = 0; i < count; ++i) check.add(i, b[i], double(2.0f * a[i]));
    for (size_t i = 0; i < count; ++i) check.add(count + i, c[i], double(3.0f * a[i]));
    if (!bs[0].guardsIntact()) check.fail("wrote outside B");
    if (!cs[0].guardsIntact()) check.fail("wrote outside C");
  }

  Result r;
  r.name = "macro_scope";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = 3.0 * bytes;  // A once, B and C once each
  if (check.passed())
    r.ms = medianMs([&](int rep) {
      int s = rep % sets;
      return twice_launch(as[s].ptr(), bs[s].ptr(), cs[s].ptr(), M, N, g.stream);
    });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# macro_scope on %s\n", gpu().name.c_str());
  testShape(1000, 1000);
  testShape(33, 65);
  testShape(8192, 8192);
  return finish();
}
