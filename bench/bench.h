// bench.h: what every tlc benchmark program shares (Driver API only).
//
// Builds on the GPU test harness (tests/gpu/harness.h: device setup, guarded and
// poisoned buffers, fixed-seed random data, the event-timed median, the L2 rotation
// rule) and adds what a benchmark needs on top: one `Case` per kernel and size, run as
//   poison the outputs -> launch once -> verify against a CPU reference ->
//   median of BENCH_REPS (default 100) event-timed launches after 5 warm-ups,
//   rotating over buffer sets so the inputs don't sit in L2 ->
//   for the small (launch-bound) sizes, also the host-side cost of back-to-back
//   launches (wall time of 2000 launches and one synchronize, divided by 2000).
// Every case prints one line for bench/report.py:
//   BENCH|{"op": ..., "impl": "tlc", "what": ..., "shape": ..., "size": ..., ...}
// GB/s and % of the copy ceiling are computed by report.py from `bytes` and `ms`, so
// every implementation (tlc, torch, Triton, the driver's copy) is counted one way.
//
// BENCH_DRY_RUN=1 (the CPU-only rehearsal against tests/gpu/mock) makes programs pick
// their small shapes only and time 5 launches; nothing else changes.
#pragma once

#include "harness.h"  // tests/gpu/harness.h: build_bench.sh puts tests/gpu on the include path

#include <chrono>
#include <sstream>

namespace bench {

using gpu_test::Checker;
using gpu_test::DeviceBuffer;
using gpu_test::Gpu;
using gpu_test::bufferSets;
using gpu_test::fillSets;

inline bool dryRun() {
  const char* v = std::getenv("BENCH_DRY_RUN");
  return v && *v && std::strcmp(v, "0") != 0;
}

inline int timedReps() {
  if (dryRun()) return 5;
  const char* v = std::getenv("BENCH_REPS");
  int reps = v ? std::atoi(v) : 100;
  return reps >= 50 ? reps : 50;  // the method promises a median of at least 50
}

// The device, without the harness measuring a copy ceiling in every program: the
// runner measures it once (bench/ceiling.cpp) and report.py divides by it.
inline Gpu& device() {
  setenv("TLC_CEILING_GBS", "1", 0);
  return gpu_test::gpu();
}

inline std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// One row of the table, before report.py adds GB/s and the percentage.
struct Row {
  std::string op;      // the job, shared with the peers: "tile copy", "transpose", ...
  std::string impl = "tlc";
  std::string what;    // which program or call: "tile_copy.tl", "cuMemcpyDtoDAsync"
  std::string shape;   // e.g. "16384x16384 fp16", identical to the peers' spelling
  std::string size;    // "large" (fills the GPU) or "small" (launch-bound)
  std::string status;  // PASS, FAIL, or why it did not run
  double maxErr = 0;
  double ms = 0;       // median event-timed milliseconds; 0 when not timed
  double bytes = 0;    // bytes the job must move: inputs read once + outputs written once
  double launchUs = 0; // host microseconds per back-to-back launch (small sizes only)
  int reps = 0;
  int sets = 1;        // buffer sets rotated over
  std::string note;    // the variant the launcher picked, or why not timed
  std::string baseline;  // for a general-variant row (odd extent, offset base): the
                         // shape of the aligned row of the same program it is held to
  double peakGBs = 0;    // the copy ceiling's row only: the memory's physical peak
};

inline void emit(const Row& r) {
  std::ostringstream o;
  o.precision(9);
  o << "BENCH|{\"op\": " << jsonString(r.op) << ", \"impl\": " << jsonString(r.impl)
    << ", \"what\": " << jsonString(r.what) << ", \"shape\": " << jsonString(r.shape)
    << ", \"size\": " << jsonString(r.size) << ", \"status\": " << jsonString(r.status)
    << ", \"max_err\": " << (std::isfinite(r.maxErr) ? r.maxErr : -1.0) << ", \"ms\": " << r.ms
    << ", \"bytes\": " << r.bytes << ", \"launch_us\": " << r.launchUs << ", \"reps\": " << r.reps
    << ", \"sets\": " << r.sets << ", \"note\": " << jsonString(r.note);
  if (!r.baseline.empty()) o << ", \"baseline\": " << jsonString(r.baseline);
  if (r.peakGBs > 0) o << ", \"peak_gbs\": " << r.peakGBs;
  o << "}";
  std::printf("%s\n", o.str().c_str());
  std::fflush(stdout);
}

// Host microseconds per launch when `count` launches are enqueued back to back and
// waited for once: the launcher's own cost where the kernel is shorter than it, the
// kernel's time where it is longer.
inline double hostMicrosecondsPerLaunch(const std::function<CUresult(int)>& launch, int sets, int count = 2000) {
  Gpu& g = device();
  if (dryRun()) count = 20;
  for (int i = 0; i < 20; ++i) CU_CHECK(launch(i % sets));
  CU_CHECK(cuStreamSynchronize(g.stream));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) CU_CHECK(launch(i % sets));
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::chrono::duration<double, std::micro> spent = std::chrono::steady_clock::now() - start;
  return spent.count() / count;
}

// One kernel at one size. The program fills the inputs of every set and poisons the
// outputs of set 0 before calling run(); `verify` reads set 0's outputs back.
struct Case {
  Row row;
  std::function<CUresult(int set)> launch;
  std::function<void(Checker&)> verify;
  std::function<int()> variant;                  // optional: the launcher's choice
  std::function<const char*(int)> variantEntry;  // optional: its entry name
  Checker tolerance;                             // exact unless the program says otherwise

  bool run() {
    Gpu& g = device();
    Checker check = tolerance;
    if (variant && variantEntry) {
      const char* entry = variantEntry(variant());
      row.note = entry ? entry : "?";
    }
    if (gpu_test::launchAndWait(launch(0), check)) verify(check);
    row.maxErr = check.maxError();
    row.status = check.passed() ? "PASS" : "FAIL";
    if (check.passed()) {
      // The harness passes the launch number; the sets repeat round-robin.
      const int sets = std::max(1, row.sets);
      auto rotated = [&](int i) { return launch(i % sets); };
      row.reps = timedReps();
      row.ms = gpu_test::medianMs(rotated, row.reps, 5);
      if (row.size == "small") row.launchUs = hostMicrosecondsPerLaunch(rotated, sets);
    }
    (void)g;
    emit(row);
    if (!check.passed()) ++gpu_test::failureCount();
    return check.passed();
  }
};

// Buffer sets to rotate over for a set of `bytesPerSet` (the harness's rule: their
// total at least 3x the L2, at most 32 sets and 2 GiB).
inline int rotationSets(size_t bytesPerSet) { return gpu_test::rotationSets(bytesPerSet); }

inline std::string dims(std::initializer_list<long long> d, const char* dtype) {
  return gpu_test::shapeString(d, dtype);
}

inline int finish() { return gpu_test::finish(); }

// Where a row's buffers sit and what it is compared with: the aligned case, or one of
// the inputs that send the launcher to the general (fallback) variant (issue 22: a
// general variant within 85% of its aligned variant on an input of the same size).
struct Placement {
  size_t offsetBytes = 0;  // every buffer's base this many bytes past 16-byte alignment
  std::string suffix;      // added to the shape: " odd N", " base+2B"
  std::string baseline;    // the aligned row's shape, empty for the aligned row itself
};
inline Placement aligned() { return {}; }
inline Placement oddExtent(const std::string& alignedShape) { return {0, " odd N", alignedShape}; }
inline Placement offsetBase(size_t bytes, const std::string& alignedShape) {
  return {bytes, " base+" + std::to_string(bytes) + "B", alignedShape};
}

// Exact comparison of two byte ranges; on a mismatch the first few differing
// elements of `elemBytes` each are reported through the checker.
inline void compareBytes(Checker& check, const void* got, const void* want, size_t bytes, size_t elemBytes) {
  if (std::memcmp(got, want, bytes) == 0) return;
  const uint8_t* g = static_cast<const uint8_t*>(got);
  const uint8_t* w = static_cast<const uint8_t*>(want);
  int reported = 0;
  for (size_t i = 0; i < bytes && reported < 5; i += elemBytes) {
    if (std::memcmp(g + i, w + i, elemBytes) != 0) {
      uint64_t gv = 0, wv = 0;
      std::memcpy(&gv, g + i, std::min<size_t>(elemBytes, 8));
      std::memcpy(&wv, w + i, std::min<size_t>(elemBytes, 8));
      check.addBits(i / elemBytes, gv, wv);
      ++reported;
    }
  }
  check.fail("output differs from the reference");
}

}  // namespace bench

// The launcher functions of the kernel a program was built for: build_bench.sh passes
// -DBENCH_KERNEL=<kernel name>, so KERNEL_FN(launch) is <kernel>_launch.
#define BENCH_CAT2(a, b) a##_##b
#define BENCH_CAT(a, b) BENCH_CAT2(a, b)
#define KERNEL_FN(suffix) BENCH_CAT(BENCH_KERNEL, suffix)
