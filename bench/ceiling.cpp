// ceiling.cpp: the device-to-device copy every row's "%" is relative to.
//
// cuMemcpyDtoDAsync of 512 MiB (1 GiB moved: read + write), verified byte for byte,
// then the median of the event-timed copies, like every kernel row. report.py takes
// this row's GB/s as the ceiling of the run.
#include "bench.h"

int main() {
  bench::Gpu& g = bench::device();
  std::printf("# device: %s, L2 %zu MiB\n", g.name.c_str(), g.l2Bytes >> 20);
  const size_t bytes = bench::dryRun() ? (size_t(8) << 20) : (size_t(512) << 20);
  std::vector<uint32_t> host(bytes / 4), back(bytes / 4);
  gpu_test::fillRandomBits(host, 7);
  bench::DeviceBuffer src(bytes), dst(bytes);
  src.upload(host.data());
  dst.poison();

  bench::Case c;
  c.row.op = "D2D copy";
  c.row.impl = "driver";
  c.row.what = "cuMemcpyDtoDAsync";
  c.row.shape = std::to_string(bytes >> 20) + " MiB";
  c.row.size = "large";
  c.row.bytes = 2.0 * bytes;
  c.row.note = "the ceiling";
  c.launch = [&](int) { return cuMemcpyDtoDAsync(dst.ptr(), src.ptr(), bytes, g.stream); };
  c.verify = [&](bench::Checker& check) {
    dst.download(back.data());
    bench::compareBytes(check, back.data(), host.data(), bytes, 4);
  };
  c.run();
  return bench::finish();
}
