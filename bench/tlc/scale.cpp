// scale.cpp: q = s * p over raw float32 pointers with tlc's scale
// (examples/scale_ptr.tl). Exact (one multiplication). Sizes: n = 2^27 (512 MiB each
// way) and n = 65536.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

void benchScale(int n, const char* size) {
  bench::Gpu& g = bench::device();
  const size_t bytes = size_t(n) * 4;
  const float s = -2.3125f;
  const int sets = bench::rotationSets(2 * bytes);
  std::vector<float> p(n), q(n);
  gpu_test::fillUniform(p, 17u + n, -100.0f, 100.0f);
  auto ps = bench::bufferSets(sets, bytes), qs = bench::bufferSets(sets, bytes);
  bench::fillSets(ps, p);
  qs[0].poison();

  bench::Case k;
  k.row.op = "scale";
  k.row.what = BENCH_WHAT;
  k.row.shape = "n=" + std::to_string(n) + " fp32";
  k.row.size = size;
  k.row.bytes = 2.0 * bytes;
  k.row.sets = sets;
  k.launch = [&](int set) { return KERNEL_FN(launch)(ps[set].ptr(), qs[set].ptr(), n, s, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(ps[0].ptr(), qs[0].ptr(), n, s); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.verify = [&](bench::Checker& check) {
    qs[0].download(q.data());
    std::vector<float> want(n);
    for (int i = 0; i < n; ++i) want[i] = s * p[i];
    bench::compareBytes(check, q.data(), want.data(), bytes, 4);
    if (!qs[0].guardsIntact()) check.fail("wrote outside q");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) benchScale(1 << 27, "large");
  benchScale(65536, "small");
  return bench::finish();
}
