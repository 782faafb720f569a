// ceiling.cpp: the device-to-device copy every row's "%" is relative to.
//
// cuMemcpyDtoDAsync of 512 MiB (1 GiB moved: read + write), verified byte for byte,
// then the median of the event-timed copies, like every kernel row. report.py takes
// this row's GB/s as the ceiling of the run. The row also carries the memory's
// physical peak as the device reports it (2 transfers per clock x the memory clock x
// the bus width: HBM is double data rate), so the table shows how far the copy ceiling
// itself is from the hardware.
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
  int memoryClockKHz = 0, busWidthBits = 0;
  CU_CHECK(cuDeviceGetAttribute(&memoryClockKHz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, g.device));
  CU_CHECK(cuDeviceGetAttribute(&busWidthBits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, g.device));
  const double peakGBs = 2.0 * memoryClockKHz * 1e3 * (busWidthBits / 8.0) / 1e9;
  std::printf("# memory: %d MHz x %d bits, peak %.1f GB/s\n", memoryClockKHz / 1000, busWidthBits, peakGBs);
  c.row.note = "the ceiling";
  c.row.peakGBs = peakGBs;
  c.launch = [&](int) { return cuMemcpyDtoDAsync(dst.ptr(), src.ptr(), bytes, g.stream); };
  c.verify = [&](bench::Checker& check) {
    dst.download(back.data());
    bench::compareBytes(check, back.data(), host.data(), bytes, 4);
  };
  c.run();
  return bench::finish();
}
