// layout_hint: the spec's layout_hint.tl (B = A + 1 through a fragment that follows
// the strip layout L, reads outside A giving -1), in float32.
//
// B is written only in bounds, so every element of B is A + 1 exactly (one float
// addition, no rounding choice); the -1 of the ragged edge reaches no output here
// (layout_safe_value checks it). B is poisoned first and its guards checked after.
// Shapes: ragged in both axes (1000x999, 33x31), a single element, whole tiles.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "layout_hint.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(float);
  Checker check;  // exact

  std::vector<float> a(count), b(count);
  fillUniform(a, 17u * M + N);
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();

  const int variant = strips_select_variant(da.ptr(), db.ptr(), M, N);
  const char* entry = strips_variant_entry(variant);
  if (launchAndWait(strips_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.add(i, b[i], double(a[i] + 1.0f));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }

  Result r;
  r.name = "layout_hint";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int) { return strips_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# layout_hint on %s\n", gpu().name.c_str());
  testShape(1000, 999);
  testShape(33, 31);
  testShape(1, 1);
  testShape(1024, 1024);
  testShape(4096, 4096);
  return finish();
}
