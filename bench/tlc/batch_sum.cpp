// batch_sum.cpp: C[m, n] = sum over k of A[k, m, n], float16 in, float32 out, with
// tlc's batch_sum (examples/batch_sum.tl).
//
// The reference sums in float32 in k order; an element passes within 2^-20 of
// sum |A| (a kernel may reassociate). Bytes: A read once + C written once.
// Sizes: 16 x 4096^2 (512 MiB in) and 4 x 256^2.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

using gpu_test::halfToFloat;

// Random float16 values of magnitude in [2^-6, 2): never NaN, never the poison.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed) {
  gpu_test::Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = uint16_t(((x & 1) << 15) | ((9 + (x >> 1) % 7) << 10) | ((x >> 8) & 0x3ff));
  }
}

void benchBatchSum(int K, int M, int N, const char* size) {
  bench::Gpu& g = bench::device();
  const size_t plane = size_t(M) * N, inBytes = plane * K * 2, outBytes = plane * 4;
  const int sets = bench::rotationSets(inBytes + outBytes);
  std::vector<uint16_t> a(plane * K);
  std::vector<float> c(plane);
  fillHalf(a, 23u * K + 7u * M + N);
  auto as = bench::bufferSets(sets, inBytes), cs = bench::bufferSets(sets, outBytes);
  bench::fillSets(as, a);
  cs[0].poison();

  bench::Case k;
  k.row.op = "batch sum";
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({K, M, N}, "fp16->fp32");
  k.row.size = size;
  k.row.bytes = double(inBytes + outBytes);
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(as[s].ptr(), cs[s].ptr(), K, M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(as[0].ptr(), cs[0].ptr(), K, M, N); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.tolerance = bench::Checker(0, std::ldexp(1.0, -20));
  k.verify = [&](bench::Checker& check) {
    cs[0].download(c.data());
    std::vector<float> sum(plane, 0.0f), scale(plane, 0.0f);
    for (int kk = 0; kk < K; ++kk)  // plane by plane: streams through A once
      for (size_t i = 0; i < plane; ++i) {
        float x = halfToFloat(a[size_t(kk) * plane + i]);
        sum[i] += x;
        scale[i] += std::fabs(x);
      }
    for (size_t i = 0; i < plane; ++i) check.add(i, c[i], sum[i], scale[i]);
    if (!cs[0].guardsIntact()) check.fail("wrote outside C");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) benchBatchSum(16, 4096, 4096, "large");
  benchBatchSum(4, 256, 256, "small");
  return bench::finish();
}
