// strided_compact: Y = X where X is an M x N view with rows ldx elements apart, bf16
// (examples/strided_compact.tl). Bit-exact; the part of X's rows past N must not leak.
#include "harness.h"

#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "strided_compact"
#endif
#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "strided_compact.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// `offset` shifts X and Y by that many bytes; `wantEntry`, when given, is the variant
// the launcher must pick.
void testShape(int M, int N, int ldx, size_t offset = 0, const char* wantEntry = nullptr) {
  Gpu& g = gpu();
  const size_t inCount = size_t(M) * ldx, outCount = size_t(M) * N;
  Checker check;
  std::vector<uint16_t> x(inCount), y(outCount);
  fillRandomBits(x, 29u * M + N + ldx);
  const int sets = rotationSets(2 * outCount * 2);
  std::vector<DeviceBuffer> xs, ys;
  for (int s = 0; s < sets; ++s) {
    xs.emplace_back(inCount * 2, offset);
    ys.emplace_back(outCount * 2, offset);
  }
  xs[0].upload(x.data());
  for (int s = 1; s < sets; ++s) xs[s].copyFrom(xs[0]);
  ys[0].poison();

  const char* entry = compact_variant_entry(compact_select_variant(xs[0].ptr(), ys[0].ptr(), M, N, ldx));
  const std::string shape = shapeString({M, N}, "bf16") + " ldx=" + std::to_string(ldx) +
                            (offset ? " X,Y+" + std::to_string(offset) + "B" : "");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);
  if (launchAndWait(compact_launch(xs[0].ptr(), ys[0].ptr(), M, N, ldx, g.stream), check)) {
    ys[0].download(y.data());
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) check.addBits(size_t(m) * N + n, y[size_t(m) * N + n], x[size_t(m) * ldx + n]);
    if (!ys[0].guardsIntact()) check.fail("wrote outside Y");
  }
  Result r;
  r.name = TLC_TEST_NAME;
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * outCount * 2;  // the view's elements read once, Y written once
  if (check.passed())
    r.ms = medianMs([&](int rep) {
      int s = rep % sets;
      return compact_launch(xs[s].ptr(), ys[s].ptr(), M, N, ldx, g.stream);
    });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# strided_compact on %s\n", gpu().name.c_str());
  testShape(1000, 1000, 1024, 0, "compact_aligned");
  testShape(1000, 1000, 1001, 0, "compact");     // rows off 16-byte alignment: general variant
  testShape(1000, 1000, 1024, 8, "compact");     // X and Y 8 bytes past 16: general variant
  testShape(33, 130, 200);       // ragged edges
  testShape(8192, 4096, 8192);   // the left half of an 8192^2 matrix
  return finish();
}
