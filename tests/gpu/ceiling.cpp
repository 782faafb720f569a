// ceiling: the device-to-device copy bandwidth every test's "%" is relative to.
//
// cuMemcpyDtoDAsync of 512 MiB, median of 50 event-timed copies after 5 warm-ups,
// counting bytes read plus bytes written (as the tests do). Prints
//   CEILING|<GB/s>
// for run_all.sh, which exports it as TLC_CEILING_GBS to the tests, and one RESULT row.
#include "harness.h"

int main() {
  unsetenv("TLC_CEILING_GBS");  // always measure here
  gpu_test::Gpu& g = gpu_test::gpu();
  std::printf("# device: %s, L2 %zu MiB\n", g.name.c_str(), g.l2Bytes >> 20);
  std::printf("CEILING|%.1f\n", g.ceilingGBs);
  gpu_test::Result r;
  r.name = "cuMemcpyDtoDAsync (ceiling)";
  r.shape = "512 MiB";
  r.pass = true;
  r.bytes = 2.0 * (size_t(512) << 20);
  r.ms = r.bytes / (g.ceilingGBs * 1e9) * 1e3;
  r.variant = "-";
  gpu_test::report(r);
  return gpu_test::finish();
}
