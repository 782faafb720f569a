// strided_compact.cpp: Y = X where X is an M x N bf16 view with rows ldx elements
// apart (the left half of a wider matrix), with tlc's compact
// (examples/strided_compact.tl). Bit-exact. Bytes: the view read once + Y written
// once. Sizes: 16384 x 8192 of 16384^2 (256 MiB each way) and 256 x 256 of 256 x 512.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

void benchCompact(int M, int N, int ldx, const char* size) {
  bench::Gpu& g = bench::device();
  const size_t inCount = size_t(M) * ldx, outCount = size_t(M) * N;
  const int sets = bench::rotationSets(2 * outCount * 2);
  std::vector<uint16_t> x(inCount), y(outCount), want(outCount);
  gpu_test::fillRandomBits(x, 29u * M + N + ldx);
  for (int m = 0; m < M; ++m) std::memcpy(&want[size_t(m) * N], &x[size_t(m) * ldx], size_t(N) * 2);
  auto xs = bench::bufferSets(sets, inCount * 2), ys = bench::bufferSets(sets, outCount * 2);
  bench::fillSets(xs, x);
  ys[0].poison();

  bench::Case k;
  k.row.op = "strided compact";
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({M, N}, "bf16") + " of ldx=" + std::to_string(ldx);
  k.row.size = size;
  k.row.bytes = 2.0 * outCount * 2;
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), ys[s].ptr(), M, N, ldx, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), ys[0].ptr(), M, N, ldx); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.verify = [&](bench::Checker& check) {
    ys[0].download(y.data());
    bench::compareBytes(check, y.data(), want.data(), outCount * 2, 2);
    if (!ys[0].guardsIntact()) check.fail("wrote outside Y");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) benchCompact(16384, 8192, 16384, "large");
  benchCompact(256, 256, 512, "small");
  return bench::finish();
}
