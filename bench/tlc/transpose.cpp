// transpose.cpp: At = A^T for an M x N matrix with tlc's transpose2d
// (examples/transpose.tl). Bit-exact. -DTR_ELEM_BYTES=2 for fp16 (default 4, fp32),
// -DTR_LARGE for the large side: 8192^2 fp32 (256 MiB each way, as the peers were
// measured) or 16384^2 fp16 (512 MiB each way); and 256^2; and the general variant's
// inputs at the large size (N one less, every base one element past alignment), each
// held to the aligned row.
#include "bench.h"

#ifndef TR_ELEM_BYTES
#define TR_ELEM_BYTES 4
#endif
#ifndef TR_LARGE
#define TR_LARGE 8192
#endif
#if TR_ELEM_BYTES == 2
using Elem = uint16_t;
#define TR_DTYPE "fp16"
#else
using Elem = uint32_t;
#define TR_DTYPE "fp32"
#endif

#include TLC_KERNEL_HEADER

namespace {

void benchTranspose(int M, int N, const char* size, const bench::Placement& placement = bench::aligned()) {
  bench::Gpu& g = bench::device();
  const size_t count = size_t(M) * N, bytes = count * sizeof(Elem);
  const int sets = bench::rotationSets(2 * bytes);
  std::vector<Elem> a(count), at(count), want(count);
  gpu_test::fillRandomBits(a, 31u * M + N);
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) want[size_t(n) * M + m] = a[size_t(m) * N + n];
  auto as = bench::bufferSets(sets, bytes, placement.offsetBytes), ats = bench::bufferSets(sets, bytes, placement.offsetBytes);
  bench::fillSets(as, a);
  ats[0].poison();

  bench::Case k;
  k.row.op = "transpose";
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({M, N}, TR_DTYPE) + placement.suffix;
  k.row.baseline = placement.baseline;
  k.row.size = size;
  k.row.bytes = 2.0 * bytes;
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(as[s].ptr(), ats[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(as[0].ptr(), ats[0].ptr(), M, N); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.verify = [&](bench::Checker& check) {
    ats[0].download(at.data());
    bench::compareBytes(check, at.data(), want.data(), bytes, sizeof(Elem));
    if (!ats[0].guardsIntact()) check.fail("wrote outside At");
  };
  k.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) {
    benchTranspose(TR_LARGE, TR_LARGE, "large");
    const std::string alignedShape = bench::dims({TR_LARGE, TR_LARGE}, TR_DTYPE);
    benchTranspose(TR_LARGE, TR_LARGE - 1, "large", bench::oddExtent(alignedShape));
    benchTranspose(TR_LARGE, TR_LARGE, "large", bench::offsetBase(sizeof(Elem), alignedShape));
  }
  benchTranspose(256, 256, "small");
  return bench::finish();
}
