// batch_sum: C[m, n] = sum over k of A[k, m, n], float16 in, float32 out
// (examples/batch_sum.tl: a pipelined stream of tiles into one accumulator).
//
// The reference sums in float32 in the kernel's order (k = 0, 1, ...), so the result
// should match exactly; the tolerance allows 2^-20 relative to sum |A| for a kernel
// that reassociates. K = 0 still launches (the grid covers M x N) and writes zeros.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "batch_sum.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Random float16 values of magnitude in [2^-6, 2): exponent field 9..15.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed) {
  Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = uint16_t(((x & 1) << 15) | ((9 + (x >> 1) % 7) << 10) | ((x >> 8) & 0x3ff));
  }
}

// `offset` shifts A and C by that many bytes; `wantEntry`, when given, is the variant
// the launcher must pick.
void testShape(int K, int M, int N, size_t offset = 0, const char* wantEntry = nullptr) {
  Gpu& g = gpu();
  const size_t plane = size_t(M) * N, inBytes = plane * K * 2, outBytes = plane * 4;
  Checker check(0, std::ldexp(1.0, -20));
  std::vector<uint16_t> a(plane * K);
  std::vector<float> c(plane);
  fillHalf(a, 23u * K + 7u * M + N);
  const int sets = rotationSets(inBytes + outBytes);
  std::vector<DeviceBuffer> as, cs;
  for (int s = 0; s < sets; ++s) {
    as.emplace_back(inBytes, offset);
    cs.emplace_back(outBytes, offset);
  }
  as[0].upload(a.data());
  for (int s = 1; s < sets; ++s) as[s].copyFrom(as[0]);
  cs[0].poison();

  const char* entry = batch_sum_variant_entry(batch_sum_select_variant(as[0].ptr(), cs[0].ptr(), K, M, N));
  const std::string shape = shapeString({K, M, N}, "fp16->fp32") + (offset ? " A,C+" + std::to_string(offset) + "B" : "");
  if (wantEntry) expectVariant(entry, wantEntry, shape, check);
  if (launchAndWait(batch_sum_launch(as[0].ptr(), cs[0].ptr(), K, M, N, g.stream), check)) {
    cs[0].download(c.data());
    for (size_t i = 0; i < plane; ++i) {
      float sum = 0, scale = 0;
      for (int k = 0; k < K; ++k) {
        float x = halfToFloat(a[size_t(k) * plane + i]);
        sum += x;
        scale += std::fabs(x);
      }
      check.add(i, c[i], sum, scale);
    }
    if (!cs[0].guardsIntact()) check.fail("wrote outside C");
  }
  Result r;
  r.name = "batch_sum";
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = double(inBytes + outBytes);
  if (check.passed())
    r.ms = medianMs([&](int rep) {
      int s = rep % sets;
      return batch_sum_launch(as[s].ptr(), cs[s].ptr(), K, M, N, g.stream);
    });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# batch_sum on %s\n", gpu().name.c_str());
  testShape(4, 1000, 1000, 0, "batch_sum_aligned");
  testShape(4, 1000, 1000, 8, "batch_sum");  // 8 bytes past 16-byte alignment: the general variant
  testShape(3, 65, 129);   // ragged edges
  testShape(5, 64, 999);   // N odd: general variant
  testShape(0, 64, 128);   // nothing to sum: zeros
  testShape(1, 1000, 1000);   // K below the pipeline depth
  testShape(2, 1000, 1000);
  testShape(3, 1000, 1000);   // K equal to the pipeline depth
  testShape(64, 1000, 1000);  // many trips round the ring
  testShape(7, 129, 264);     // ragged, pipelined
  testShape(16, 4096, 4096);
  return finish();
}
