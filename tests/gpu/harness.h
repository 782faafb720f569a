// harness.h: what every GPU test program shares (Driver API only, no runtime API).
//
// Each test program includes the tlc-generated header of its kernel, and for each
// shape: fills inputs with fixed-seed random data, poisons outputs (0xFF bytes, a NaN
// for every float type) and the guard zones around them (0xA5), launches once,
// compares element by element with a CPU reference, checks that nothing outside the
// output was written, then times the kernel: 5 warm-up launches, then the median of
// 100 launches each timed by its own pair of events. Inputs and outputs rotate over
// several buffer sets whose total is at least 3x the L2 size (for small shapes), so
// the timing does not measure L2-resident data; from 512 MiB per set on L2 cannot
// matter and one set is used.
//
// Every shape prints one line the runner (run_all.sh) collects:
//   RESULT|name|shape|PASS or FAIL|max abs error|ms|GB/s|% of copy ceiling|variant
// GB/s counts the bytes the operation must move: each input read once plus each
// output written once. The copy ceiling is cuMemcpyDtoDAsync of 512 MiB (reads plus
// writes, median of 50), measured once by the `ceiling` program and handed to the
// tests in TLC_CEILING_GBS; a test run alone measures it itself.
#pragma once

#include <cuda.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace gpu_test {

// ------------------------------------------------------------------ errors

inline const char* errorName(CUresult r) {
  const char* name = nullptr;
  cuGetErrorName(r, &name);
  return name ? name : "unknown CUresult";
}

// Tests may stop at the first driver failure: a failed call leaves nothing to test.
#define CU_CHECK(call)                                                                    \
  do {                                                                                    \
    CUresult cu_check_result_ = (call);                                                   \
    if (cu_check_result_ != CUDA_SUCCESS) {                                               \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,            \
                   ::gpu_test::errorName(cu_check_result_));                              \
      std::exit(2);                                                                       \
    }                                                                                     \
  } while (0)

// ------------------------------------------------------------------ device

struct Gpu {
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::string name;
  size_t l2Bytes = 50u << 20;
  double ceilingGBs = 0;  // measured or from TLC_CEILING_GBS
};

inline double measureCopyCeilingGBs(Gpu& g);

// The device, its primary context (current on this thread) and one stream.
inline Gpu& gpu() {
  static Gpu g;
  static bool ready = false;
  if (ready) return g;
  CU_CHECK(cuInit(0));
  CU_CHECK(cuDeviceGet(&g.device, 0));
  char name[256] = {};
  CU_CHECK(cuDeviceGetName(name, sizeof name, g.device));
  g.name = name;
  int l2 = 0;
  CU_CHECK(cuDeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, g.device));
  if (l2 > 0) g.l2Bytes = static_cast<size_t>(l2);
  CU_CHECK(cuDevicePrimaryCtxRetain(&g.context, g.device));
  CU_CHECK(cuCtxSetCurrent(g.context));
  CU_CHECK(cuStreamCreate(&g.stream, CU_STREAM_NON_BLOCKING));
  ready = true;
  if (const char* env = std::getenv("TLC_CEILING_GBS")) g.ceilingGBs = std::atof(env);
  if (g.ceilingGBs <= 0) g.ceilingGBs = measureCopyCeilingGBs(g);
  return g;
}

// ------------------------------------------------------------------ buffers

// A device allocation with guard zones on both sides of the payload, so that a
// kernel writing past its output (or before it) is caught. `offset` shifts the
// payload by a few bytes inside the allocation (for misaligned-pointer tests).
class DeviceBuffer {
 public:
  static constexpr size_t kGuard = 4096;
  static constexpr uint8_t kGuardByte = 0xA5;
  static constexpr uint8_t kPoisonByte = 0xFF;

  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes, size_t offset = 0) : bytes_(bytes), offset_(offset) {
    total_ = bytes + 2 * kGuard + offset;
    CU_CHECK(cuMemAlloc(&base_, total_));
    // Guards hold their pattern from the start, so guardsIntact() means something
    // for inputs too (their payload is uploaded, their guards never touched).
    CU_CHECK(cuMemsetD8(base_, kGuardByte, total_));
    CU_CHECK(cuCtxSynchronize());
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(bytes_, o.bytes_);
    std::swap(total_, o.total_);
    std::swap(offset_, o.offset_);
    return *this;
  }
  ~DeviceBuffer() {
    if (base_) cuMemFree(base_);
  }

  CUdeviceptr ptr() const { return base_ + kGuard + offset_; }
  size_t bytes() const { return bytes_; }

  void upload(const void* host) const {
    if (bytes_) CU_CHECK(cuMemcpyHtoD(ptr(), host, bytes_));
  }
  void download(void* host) const {
    if (bytes_) CU_CHECK(cuMemcpyDtoH(host, ptr(), bytes_));
  }
  void copyFrom(const DeviceBuffer& other) const {
    if (bytes_) CU_CHECK(cuMemcpyDtoD(ptr(), other.ptr(), std::min(bytes_, other.bytes_)));
    CU_CHECK(cuCtxSynchronize());  // device-to-device copies may also return early
  }
  // Guards get 0xA5, the payload 0xFF (NaN for fp16, bf16, fp32 and fp64 alike).
  void poison() const {
    CU_CHECK(cuMemsetD8(base_, kGuardByte, total_));
    if (bytes_) CU_CHECK(cuMemsetD8(ptr(), kPoisonByte, bytes_));
    // cuMemsetD8 may return before it is done, on the legacy stream, which does
    // not order with the tests' non-blocking streams: wait, or the poison could
    // land after the kernel's output.
    CU_CHECK(cuCtxSynchronize());
  }
  // True when the zones around the payload still hold the guard pattern.
  bool guardsIntact() const {
    std::vector<uint8_t> front(kGuard + offset_), back(kGuard);
    CU_CHECK(cuMemcpyDtoH(front.data(), base_, front.size()));
    CU_CHECK(cuMemcpyDtoH(back.data(), ptr() + bytes_, back.size()));
    auto intact = [](const std::vector<uint8_t>& v) {
      return std::all_of(v.begin(), v.end(), [](uint8_t b) { return b == kGuardByte; });
    };
    return intact(front) && intact(back);
  }
  // True when nothing wrote to this buffer since poison(): the payload still holds the
  // poison bytes and the zones around it the guard pattern. Waits for all work first.
  bool untouchedSincePoison() const {
    CU_CHECK(cuCtxSynchronize());
    std::vector<uint8_t> payload(bytes_);
    download(payload.data());
    return std::all_of(payload.begin(), payload.end(), [](uint8_t b) { return b == kPoisonByte; }) &&
           guardsIntact();
  }

 private:
  CUdeviceptr base_ = 0;
  size_t bytes_ = 0, total_ = 0, offset_ = 0;
};

// `count` buffers of `bytes` each (payloads `offset` bytes into their allocations):
// the sets a timed test rotates over, rotationSets() of them.
inline std::vector<DeviceBuffer> bufferSets(int count, size_t bytes, size_t offset = 0) {
  std::vector<DeviceBuffer> sets;
  sets.reserve(count);
  for (int i = 0; i < count; ++i) sets.emplace_back(bytes, offset);
  return sets;
}

// Uploads `host` into set 0 and copies it to the other sets on the device.
template <class T>
void fillSets(std::vector<DeviceBuffer>& sets, const std::vector<T>& host) {
  sets[0].upload(host.data());
  for (size_t s = 1; s < sets.size(); ++s) sets[s].copyFrom(sets[0]);
}

// ------------------------------------------------------------------ data

// The raw bits of an element of `Bytes` bytes (2: fp16 and bf16, 4: fp32), for tests
// that move elements without arithmetic and compare them bit-exactly. Any other size
// does not compile.
template <int Bytes>
struct RawBitsOfSize;
template <>
struct RawBitsOfSize<1> {
  using type = uint8_t;
};
template <>
struct RawBitsOfSize<2> {
  using type = uint16_t;
};
template <>
struct RawBitsOfSize<4> {
  using type = uint32_t;
};
template <int Bytes>
using RawBits = typename RawBitsOfSize<Bytes>::type;

// A small fast generator with a fixed seed per test: runs are reproducible.
// float16 bits -> float, exact for every half (subnormals, infinities, NaN), through a
// table: references convert up to 2^28 values.
inline float halfToFloat(uint16_t h) {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) {
      const uint32_t exponent = (i >> 10) & 0x1f, mantissa = i & 0x3ff;
      const float magnitude = exponent == 0    ? std::ldexp(float(mantissa), -24)
                              : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                               : std::ldexp(float(mantissa | 0x400), int(exponent) - 25);
      t[i] = (i >> 15) ? -magnitude : magnitude;
    }
    return t;
  }();
  return table[h];
}

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) {  // [lo, hi)
    return lo + (hi - lo) * static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
  }

 private:
  uint64_t state_;
};

// Random raw bits of a 16- or 32-bit element type that never equal the poison
// pattern, so a missed write always shows.
template <class Bits>
void fillRandomBits(std::vector<Bits>& v, uint64_t seed) {
  Random r(seed);
  for (size_t i = 0; i < v.size(); i += sizeof(uint64_t) / sizeof(Bits)) {
    uint64_t x = r.next();
    for (size_t k = 0; k < sizeof(uint64_t) / sizeof(Bits) && i + k < v.size(); ++k) {
      Bits b = static_cast<Bits>(x >> (k * 8 * sizeof(Bits)));
      if (b == static_cast<Bits>(~Bits(0))) b = static_cast<Bits>(b ^ 1);
      v[i + k] = b;
    }
  }
}

inline void fillUniform(std::vector<float>& v, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Random r(seed);
  for (float& x : v) x = r.uniform(lo, hi);
}

// How many buffer sets of `bytesPerSet` to rotate over so that their total is at
// least 3x the L2 (at most 32 sets, at most 2 GiB in all; one set from 512 MiB on).
inline int rotationSets(size_t bytesPerSet) {
  if (bytesPerSet == 0) return 1;
  size_t want = (3 * gpu().l2Bytes + bytesPerSet - 1) / bytesPerSet;
  size_t cap = std::max<size_t>(1, (size_t(2) << 30) / bytesPerSet);
  return static_cast<int>(std::clamp<size_t>(want, 1, std::min<size_t>(32, cap)));
}

// ------------------------------------------------------------------ variants

// A launcher header's <kernel>_variant_entry: the entry name of variant v, NULL past the last.
using VariantEntryFn = const char* (*)(int);

// How many variants the kernel has; the last one is the general (fallback) variant.
inline int variantCount(VariantEntryFn entry) {
  int n = 0;
  while (entry(n) != nullptr) ++n;
  return n;
}

// Whether `entry` (a <kernel>_variant_entry name) is the kernel's general variant: the
// one without assumptions is named like the kernel itself, in every arch's list.
inline bool isGeneralEntry(const char* entry, const char* kernel) {
  return entry != nullptr && std::strcmp(entry, kernel) == 0;
}

// The comment line a test program starts with: "# <test> on <GPU> (2 variants: a b)".
inline void printVariants(const char* test, VariantEntryFn entry) {
  std::printf("# %s on %s (%d variants:", test, gpu().name.c_str(), variantCount(entry));
  for (int v = 0; v < variantCount(entry); ++v) std::printf(" %s", entry(v));
  std::printf(")\n");
}

// ------------------------------------------------------------------ checking

// Accumulates an element-by-element comparison. An element passes when it is within
// `absTol + relTol * scale` of the reference (scale: the magnitude the error is
// relative to, by default |ref|) or within `ulps` float32 ULPs of it; NaN never passes.
class Checker {
 public:
  explicit Checker(double absTol = 0, double relTol = 0, int ulps = 0)
      : absTol_(absTol), relTol_(relTol), ulps_(ulps) {}

  void add(size_t index, double got, double ref, double scale = -1) {
    ++count_;
    double err = std::fabs(got - ref);
    bool ok = !std::isnan(got) && !std::isnan(ref) &&
              (err <= absTol_ + relTol_ * (scale >= 0 ? scale : std::fabs(ref)) ||
               (ulps_ > 0 && ulpDistance(static_cast<float>(got), static_cast<float>(ref)) <= ulps_));
    if (std::isnan(got) != std::isnan(ref)) err = INFINITY;
    if (!std::isnan(err)) maxErr_ = std::max(maxErr_, err);
    if (!ok) {
      if (bad_ < 5)
        std::fprintf(stderr, "    mismatch at %zu: got %.9g, want %.9g\n", index, got, ref);
      ++bad_;
    }
  }
  // Exact comparison of raw bits.
  template <class Bits>
  void addBits(size_t index, Bits got, Bits ref) {
    ++count_;
    if (got != ref) {
      if (bad_ < 5)
        std::fprintf(stderr, "    mismatch at %zu: got 0x%" PRIx64 ", want 0x%" PRIx64 "\n", index,
                     static_cast<uint64_t>(got), static_cast<uint64_t>(ref));
      ++bad_;
      maxErr_ = INFINITY;
    }
  }
  void fail(const char* why) {
    std::fprintf(stderr, "    %s\n", why);
    ++bad_;
  }

  bool passed() const { return bad_ == 0; }
  size_t mismatches() const { return bad_; }
  double maxError() const { return maxErr_; }

  static int64_t ulpDistance(float a, float b) {
    int32_t ia, ib;
    std::memcpy(&ia, &a, 4);
    std::memcpy(&ib, &b, 4);
    if (ia < 0) ia = INT32_MIN - ia;
    if (ib < 0) ib = INT32_MIN - ib;
    return std::llabs(static_cast<int64_t>(ia) - static_cast<int64_t>(ib));
  }

 private:
  double absTol_, relTol_;
  int ulps_;
  size_t count_ = 0, bad_ = 0;
  double maxErr_ = 0;
};

// Fails `check` unless the launcher picked variant `want` (0: the most specialized).
inline void expectVariant(Checker& check, int got, int want) {
  if (got == want) return;
  std::fprintf(stderr, "    variant %d chosen, want %d\n", got, want);
  check.fail("wrong variant");
}

// ------------------------------------------------------------------ timing

// Median milliseconds of `reps` launches after `warmup` ones; `launch(rep)` enqueues
// one launch on the test stream and returns its CUresult. TLC_GPU_QUICK=1 (set by
// scripts/gpu_sanitize.sh, whose checkers slow every launch down) times one launch.
inline double medianMs(const std::function<CUresult(int)>& launch, int reps = 100, int warmup = 5) {
  Gpu& g = gpu();
  if (const char* quick = std::getenv("TLC_GPU_QUICK"); quick && *quick && *quick != '0') {
    reps = 1;
    warmup = 0;
  }
  for (int i = 0; i < warmup; ++i) CU_CHECK(launch(i));
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::vector<CUevent> start(reps), stop(reps);
  for (int i = 0; i < reps; ++i) {
    CU_CHECK(cuEventCreate(&start[i], CU_EVENT_DEFAULT));
    CU_CHECK(cuEventCreate(&stop[i], CU_EVENT_DEFAULT));
  }
  for (int i = 0; i < reps; ++i) {
    CU_CHECK(cuEventRecord(start[i], g.stream));
    CU_CHECK(launch(warmup + i));
    CU_CHECK(cuEventRecord(stop[i], g.stream));
  }
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::vector<float> ms(reps);
  for (int i = 0; i < reps; ++i) {
    CU_CHECK(cuEventElapsedTime(&ms[i], start[i], stop[i]));
    cuEventDestroy(start[i]);
    cuEventDestroy(stop[i]);
  }
  std::nth_element(ms.begin(), ms.begin() + reps / 2, ms.end());
  return ms[reps / 2];
}

inline double measureCopyCeilingGBs(Gpu& g) {
  const size_t bytes = size_t(512) << 20;
  CUdeviceptr src = 0, dst = 0;
  CU_CHECK(cuMemAlloc(&src, bytes));
  CU_CHECK(cuMemAlloc(&dst, bytes));
  CU_CHECK(cuMemsetD8(src, 1, bytes));
  double ms = medianMs([&](int) { return cuMemcpyDtoDAsync(dst, src, bytes, g.stream); }, 50, 5);
  cuMemFree(src);
  cuMemFree(dst);
  return 2.0 * bytes / (ms * 1e-3) / 1e9;
}

// Fails `check`, saying why, unless the launcher picked the variant named `expected`.
// `entry` is <kernel>_variant_entry(<kernel>_select_variant(...)): compared by name,
// since a header for several --arch values numbers its variants per architecture
// while their names agree. tlc names the variant for 16-byte-aligned pointers
// "<kernel>_aligned" and the general one "<kernel>"; the match is exact, so a
// launcher that always took the general variant fails every aligned expectation.
inline void expectVariant(const char* entry, const char* expected, const std::string& what, Checker& check) {
  if (entry && std::strcmp(entry, expected) == 0) return;
  std::fprintf(stderr, "    %s: the launcher picked variant %s, expected %s\n", what.c_str(), entry ? entry : "(none)",
               expected);
  check.fail("the launcher picked the wrong variant");
}

// ------------------------------------------------------------------ results

struct Result {
  std::string name;     // test and kernel, e.g. "tile_copy"
  std::string shape;    // e.g. "1000x1000 fp16"
  bool pass = false;
  double maxErr = 0;
  double ms = 0;        // 0: not timed
  double bytes = 0;     // bytes the operation must move (reads + writes)
  std::string variant;  // the device entry the launcher picked, or a note
};

// A row that is not timed: a check whose result is only PASS or FAIL.
inline Result untimedResult(const std::string& name, const std::string& shape, bool pass,
                            const std::string& variant = "-") {
  Result r;
  r.name = name;
  r.shape = shape;
  r.pass = pass;
  r.variant = variant;
  return r;
}

inline int& failureCount() {
  static int failures = 0;
  return failures;
}

inline void report(const Result& r) {
  if (!r.pass) ++failureCount();
  double gbs = r.ms > 0 ? r.bytes / (r.ms * 1e-3) / 1e9 : 0;
  double pct = r.ms > 0 && gpu().ceilingGBs > 0 ? 100.0 * gbs / gpu().ceilingGBs : 0;
  char err[32];
  if (std::isinf(r.maxErr))
    std::snprintf(err, sizeof err, "inf");
  else
    std::snprintf(err, sizeof err, "%.3g", r.maxErr);
  if (r.ms > 0)
    std::printf("RESULT|%s|%s|%s|%s|%.4f|%.1f|%.1f|%s\n", r.name.c_str(), r.shape.c_str(),
                r.pass ? "PASS" : "FAIL", err, r.ms, gbs, pct, r.variant.c_str());
  else
    std::printf("RESULT|%s|%s|%s|%s|-|-|-|%s\n", r.name.c_str(), r.shape.c_str(), r.pass ? "PASS" : "FAIL",
                err, r.variant.c_str());
  std::fflush(stdout);
}

// A shape this device cannot hold (the huge-tensor tests): a SKIP row, which is neither
// a pass nor a failure (run_all.sh fails only FAIL rows), saying what was missing.
inline void reportSkip(const std::string& name, const std::string& shape, const std::string& why) {
  std::printf("RESULT|%s|%s|SKIP|-|-|-|-|%s\n", name.c_str(), shape.c_str(), why.c_str());
  std::fflush(stdout);
}

// Whether `bytes` of allocations fit in the device's free memory (with 1 GiB to spare
// for the context and the guards); otherwise reports a SKIP row and returns false.
inline bool haveDeviceMemory(const std::string& name, const std::string& shape, size_t bytes) {
  gpu();
  size_t freeBytes = 0, totalBytes = 0;
  CU_CHECK(cuMemGetInfo(&freeBytes, &totalBytes));
  if (freeBytes >= bytes + (size_t(1) << 30)) return true;
  char why[128];
  std::snprintf(why, sizeof why, "needs %.1f GiB of device memory, %.1f GiB free", double(bytes) / (1 << 30),
                double(freeBytes) / (1 << 30));
  reportSkip(name, shape, why);
  return false;
}

// A launch must succeed and the kernel must run to completion without a fault.
// `lastError`, when given, is the header's <prefix>_last_error: why the launcher
// refused, printed with the failure.
inline bool launchAndWait(CUresult launched, Checker& check, const char* (*lastError)(void) = nullptr) {
  if (launched != CUDA_SUCCESS) {
    std::fprintf(stderr, "    launch returned %s%s%s\n", errorName(launched), lastError ? ": " : "",
                 lastError ? lastError() : "");
    check.fail("launch failed");
    return false;
  }
  CUresult done = cuStreamSynchronize(gpu().stream);
  if (done != CUDA_SUCCESS) {
    // A fault leaves the context unusable: report and stop this program.
    std::fprintf(stderr, "    kernel failed: %s\n", errorName(done));
    check.fail("kernel failed");
    return false;
  }
  return true;
}

// A launch that the launcher must refuse before anything runs: `got` must be
// CUDA_ERROR_INVALID_VALUE and `message` (from <prefix>_last_error()) must begin with
// "<launcher>: CUDA_ERROR_INVALID_VALUE: " and hold every string of `want` (they name
// the offending argument, or the sizes). Prints the message as a comment line, and
// what is wrong on stderr. The caller checks that its buffers were not written.
inline bool isRefusal(const char* what, CUresult got, const std::string& message, const std::string& launcher,
                      std::initializer_list<std::string> want) {
  bool pass = got == CUDA_ERROR_INVALID_VALUE && message.find(launcher + ": CUDA_ERROR_INVALID_VALUE: ") == 0;
  std::string wanted;
  for (const std::string& w : want) {
    if (message.find(w) == std::string::npos) pass = false;
    wanted += (wanted.empty() ? "'" : ", '") + w + "'";
  }
  std::printf("#   %-30s %-26s %s\n", what, errorName(got), message.c_str());
  if (!pass)
    std::fprintf(stderr, "    %s: got %s '%s', want CUDA_ERROR_INVALID_VALUE and a message from %s holding %s\n", what,
                 errorName(got), message.c_str(), launcher.c_str(), wanted.c_str());
  return pass;
}

// After a launch that ran: downloads `output` and compares every element bit-exactly
// with `want`, then checks that nothing was written outside `output` or `input`
// (their guard zones; "wrote outside B" names them).
template <class Bits>
void checkBitExact(Checker& check, const DeviceBuffer& output, const std::vector<Bits>& want, const char* outputName,
                   const DeviceBuffer& input, const char* inputName) {
  std::vector<Bits> got(want.size());
  output.download(got.data());
  for (size_t i = 0; i < want.size(); ++i) check.addBits(i, got[i], want[i]);
  if (!output.guardsIntact()) check.fail((std::string("wrote outside ") + outputName).c_str());
  if (!input.guardsIntact()) check.fail((std::string("wrote outside ") + inputName).c_str());
}

// Reports row `r` with the verdict and largest error of `check`; when `time` is set
// and every check passed, also the median time of `launch(rep)` (medianMs).
inline void reportChecked(Result r, const Checker& check, bool time, const std::function<CUresult(int)>& launch) {
  if (check.passed() && time) r.ms = medianMs(launch);
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

inline std::string shapeString(std::initializer_list<long long> dims, const char* dtype) {
  std::string s;
  for (long long d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s + " " + dtype;
}

// ------------------------------------------------------------------ 2-D copies

// The launcher of a copy kernel B = A, M x N row-major, M and N symbolic.
using CopyLaunchFn = CUresult (*)(CUdeviceptr A, CUdeviceptr B, int32_t M, int32_t N, CUstream stream);

// B = A of M x N fp16 through `launch`, bit-exact: A random, B poisoned, every element
// of B compared, nothing written outside B. Timed (one buffer set) from 4M elements
// on. One row, `name` and `entry` (the variant) in it.
inline void testFp16Copy(const char* name, CopyLaunchFn launch, const char* entry, int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 104729u * M + N);
  DeviceBuffer da(count * 2), db(count * 2);
  da.upload(a.data());
  db.poison();
  if (launchAndWait(launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = name;
  r.shape = shapeString({M, N}, "fp16");
  r.variant = entry;
  r.bytes = 2.0 * count * 2;
  if (check.passed() && count >= (1u << 22))
    r.ms = medianMs([&](int) { return launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

// Arguments a copy kernel without a general variant cannot take (A `offsetA` bytes
// off its alignment, or an N the kernel cannot take): `launch` must return
// CUDA_ERROR_INVALID_VALUE with a message from `lastError` that names `who` and says
// "no fallback", and write nothing to B. One row: `name`, the shape and `what`.
inline void testFp16CopyRefused(const char* name, CopyLaunchFn launch, const char* (*lastError)(), int M, int N,
                                size_t offsetA, const char* who, const char* what) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  DeviceBuffer da(count * 2, offsetA), db(count * 2);
  db.poison();
  CUresult status = launch(da.ptr(), db.ptr(), M, N, g.stream);
  const char* message = lastError();
  if (status != CUDA_ERROR_INVALID_VALUE) check.fail("expected CUDA_ERROR_INVALID_VALUE");
  if (!message || !std::strstr(message, who) || !std::strstr(message, "no fallback")) {
    std::fprintf(stderr, "    message: %s\n", message ? message : "(null)");
    check.fail("the message does not name the argument");
  }
  if (!db.untouchedSincePoison()) check.fail("wrote B although refused");
  report(untimedResult(name, shapeString({M, N}, "fp16") + " " + what, check.passed(), "launcher error"));
}

// The rows of a copy kernel B = A (fp16) that has no general variant, so the launcher
// must refuse what TMA cannot take (tma_descriptor.cpp, tma_explicit.cpp): ragged
// shapes (M not a multiple of the tile's rows, N not of its columns), M = 1, one tile,
// one tile and a row, a box wider than the tensor, two timed sizes; then A 2 bytes off
// 16 and an odd N, each refused with a message naming the requirement. Rows are named
// `name` and `name`_refused.
inline void testTmaOnlyCopy(const std::string& name, CopyLaunchFn launch, const char* entry,
                            const char* (*lastError)()) {
  const std::string refused = name + "_refused";
  testFp16Copy(name.c_str(), launch, entry, 1000, 1000);  // M % 64 != 0, N % 128 != 0
  testFp16Copy(name.c_str(), launch, entry, 1, 256);      // M = 1
  testFp16Copy(name.c_str(), launch, entry, 64, 128);     // one tile
  testFp16Copy(name.c_str(), launch, entry, 65, 128);     // one tile and one row
  testFp16Copy(name.c_str(), launch, entry, 130, 136);
  testFp16Copy(name.c_str(), launch, entry, 127, 8);      // a box wider than the tensor
  testFp16Copy(name.c_str(), launch, entry, 4096, 4096);  // timed
  testFp16Copy(name.c_str(), launch, entry, 8192, 8192);  // timed
  testFp16CopyRefused(refused.c_str(), launch, lastError, 100, 256, 2, "A aligned to 16 bytes", "A 2 bytes off");
  testFp16CopyRefused(refused.c_str(), launch, lastError, 100, 1001, 0, "N % 8 == 0", "N odd");
}

// The exit status of a test program: 0 when every row passed.
inline int finish() {
  std::fflush(stdout);
  return failureCount() == 0 ? 0 : 1;
}

}  // namespace gpu_test
