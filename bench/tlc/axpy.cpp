// axpy.cpp: C = A + alpha * B in float32 with tlc's axpy (examples/axpy_fragment.tl).
//
// Reference in double; an element passes within 2^-22 of |a| + |alpha b| (a fused or
// an unfused multiply-add). Sizes: 16384^2 (1 GiB per matrix) and 256^2; and the
// general variant's inputs at the large size (N = 16383, every base 4 bytes past
// alignment), each held to the aligned row.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

void benchAxpy(int M, int N, const char* size, const bench::Placement& placement = bench::aligned()) {
  bench::Gpu& g = bench::device();
  const size_t count = size_t(M) * N, bytes = count * 4;
  const float alpha = 1.75f;
  const int sets = bench::rotationSets(3 * bytes);
  std::vector<float> a(count), b(count), c(count);
  gpu_test::fillUniform(a, 11u * M + N);
  gpu_test::fillUniform(b, 13u * M + N);
  auto as = bench::bufferSets(sets, bytes, placement.offsetBytes), bs = bench::bufferSets(sets, bytes, placement.offsetBytes),
       cs = bench::bufferSets(sets, bytes, placement.offsetBytes);
  bench::fillSets(as, a);
  bench::fillSets(bs, b);
  cs[0].poison();

  bench::Case k;
  k.row.op = "axpy";
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({M, N}, "fp32") + placement.suffix;
  k.row.baseline = placement.baseline;
  k.row.size = size;
  k.row.bytes = 3.0 * bytes;
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(as[s].ptr(), bs[s].ptr(), cs[s].ptr(), M, N, alpha, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N, alpha); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.tolerance = bench::Checker(0, std::ldexp(1.0, -22));
  k.verify = [&](bench::Checker& check) {
    cs[0].download(c.data());
    for (size_t i = 0; i < count; ++i) {
      double product = double(alpha) * double(b[i]);
      check.add(i, c[i], double(a[i]) + product, std::fabs(a[i]) + std::fabs(product));
    }
    if (!cs[0].guardsIntact()) check.fail("wrote outside C");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) {
    benchAxpy(16384, 16384, "large");
    const std::string alignedShape = bench::dims({16384, 16384}, "fp32");
    benchAxpy(16384, 16383, "large", bench::oddExtent(alignedShape));
    benchAxpy(16384, 16384, "large", bench::offsetBase(4, alignedShape));
  }
  benchAxpy(256, 256, "small");
  return bench::finish();
}
