// macro_scope.cpp: B = 2 A and C = 3 A in float32 with tlc's twice
// (examples/macro_scope.tl: one macro body at two scopes). Exact. Bytes: A read once,
// B and C written once. Sizes: 8192^2 (768 MiB moved) and 256^2.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

void benchTwice(int M, int N, const char* size) {
  bench::Gpu& g = bench::device();
  const size_t count = size_t(M) * N, bytes = count * 4;
  const int sets = bench::rotationSets(3 * bytes);
  std::vector<float> a(count), b(count), c(count);
  gpu_test::fillUniform(a, 19u * M + N, -10.0f, 10.0f);
  auto as = bench::bufferSets(sets, bytes), bs = bench::bufferSets(sets, bytes), cs = bench::bufferSets(sets, bytes);
  bench::fillSets(as, a);
  bs[0].poison();
  cs[0].poison();

  bench::Case k;
  k.row.op = "B=2A, C=3A";
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({M, N}, "fp32");
  k.row.size = size;
  k.row.bytes = 3.0 * bytes;
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(as[s].ptr(), bs[s].ptr(), cs[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(as[0].ptr(), bs[0].ptr(), cs[0].ptr(), M, N); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.verify = [&](bench::Checker& check) {
    bs[0].download(b.data());
    cs[0].download(c.data());
    std::vector<float> want(count);
    for (size_t i = 0; i < count; ++i) want[i] = 2.0f * a[i];
    bench::compareBytes(check, b.data(), want.data(), bytes, 4);
    for (size_t i = 0; i < count; ++i) want[i] = 3.0f * a[i];
    bench::compareBytes(check, c.data(), want.data(), bytes, 4);
    if (!bs[0].guardsIntact() || !cs[0].guardsIntact()) check.fail("wrote outside B or C");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) benchTwice(8192, 8192, "large");
  benchTwice(256, 256, "small");
  return bench::finish();
}
