// copy2d.cpp: B = A for an M x N float16 matrix, with a tlc copy kernel
// (examples/tile_copy.tl; also tma_explicit.tl's stream_rows once tlc compiles it).
//
// Built per kernel by build_bench.sh with -DBENCH_KERNEL=<kernel>, -DBENCH_WHAT=<.tl>
// and the kernel's header. Bit-exact check. Sizes: 16384^2 (512 MiB each way) and
// 256^2 (launch-bound); and the general variant's inputs at the large size: N odd
// (16383) and every base 2 bytes past alignment, each held to the aligned row.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

void benchCopy(int M, int N, const char* size, const bench::Placement& placement = bench::aligned()) {
  bench::Gpu& g = bench::device();
  const size_t bytes = size_t(M) * N * 2;
  const int sets = bench::rotationSets(2 * bytes);
  std::vector<uint16_t> a(size_t(M) * N), b(a.size());
  gpu_test::fillRandomBits(a, 101u * M + N);
  auto as = bench::bufferSets(sets, bytes, placement.offsetBytes), bs = bench::bufferSets(sets, bytes, placement.offsetBytes);
  bench::fillSets(as, a);
  bs[0].poison();

  bench::Case c;
  c.row.op = "tile copy";
  c.row.what = BENCH_WHAT;
  c.row.shape = bench::dims({M, N}, "fp16") + placement.suffix;
  c.row.baseline = placement.baseline;
  c.row.size = size;
  c.row.bytes = 2.0 * bytes;
  c.row.sets = sets;
  c.launch = [&](int s) { return KERNEL_FN(launch)(as[s].ptr(), bs[s].ptr(), M, N, g.stream); };
  c.variant = [&] { return KERNEL_FN(select_variant)(as[0].ptr(), bs[0].ptr(), M, N); };
  c.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  c.verify = [&](bench::Checker& check) {
    bs[0].download(b.data());
    bench::compareBytes(check, b.data(), a.data(), bytes, 2);
    if (!bs[0].guardsIntact()) check.fail("wrote outside B");
  };
  c.run();
}

}  // namespace

int main() {
  if (!bench::dryRun()) {
    benchCopy(16384, 16384, "large");
    const std::string alignedShape = bench::dims({16384, 16384}, "fp16");
    // A kernel of one variant (tma_explicit.tl: TMA only, no general variant) refuses
    // the general inputs at launch (tests/gpu/tma_explicit.cpp checks the refusal):
    // there is no general variant to time.
    if (KERNEL_FN(info)(1) != nullptr) {
      benchCopy(16384, 16383, "large", bench::oddExtent(alignedShape));
      benchCopy(16384, 16384, "large", bench::offsetBase(2, alignedShape));
    } else {
      std::printf("# %s: one variant (no general variant): odd N and base+2B are refused at launch, not timed\n",
                  BENCH_WHAT);
    }
  }
  benchCopy(256, 256, "small");
  return bench::finish();
}
