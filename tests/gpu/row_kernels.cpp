// row_kernels: the row kernels of examples/ (issue 21 item 4) on ragged shapes against
// float64 references. One program, built once per kernel (scripts/build_gpu_tests.sh
// passes -DROW_<KERNEL> and the example's header):
//
//   ROW_SOFTMAX    examples/softmax.tl     Y = softmax(X) per row, fp16 -> fp16
//   ROW_RMSNORM    examples/rmsnorm.tl     Y = X rsqrt(mean X^2 + 1e-6) W
//   ROW_LAYERNORM  examples/layernorm.tl   Y = (X - mean) rsqrt(var + 1e-5) W + B
//   ROW_FP8_QUANT  examples/fp8_quant.tl   S = max(amax, 1e-4) / 448, Q = e4m3(X * (1 / S))
//   ROW_COL_SUM    examples/col_sum.tl     S[j] += sum_i X[i, j] (atomics over row blocks)
//   ROW_BIAS_GELU  examples/bias_gelu.tl   Y = gelu_tanh(X + B[j])
//
// Random float16 inputs, outputs poisoned (NaN) first and every element compared;
// N in {1, 7, 127, 1000, 4096, 4099, 8200} (one column tile, two, three with the
// examples' BN = 4096; the _bn128 configurations make them many), M ragged; bases
// 16-byte aligned (N % 8 == 0 must pick the _aligned variant) and one element off
// (must pick the general one); guard zones around every buffer checked.
// Tolerances (docs/language.md, "Row kernels"): float16 outputs within 2^-10 |ref| +
// 2^-24 (half a float16 ulp is 2^-11; the rest covers float32 exp / rsqrt / tanh and
// float32 sums of up to 8200 terms); layernorm's relative to |normalized * W| + |B|;
// GELU plus |v| 2^-20 for tanh's ulps near -1; fp8 codes and scales bit-exact against
// the reference rounded where the kernel rounds (the scale to float32, 1 / S to float32,
// X times it to float32, then to e4m3, nearest even, saturating); column
// sums within (2M + 2) 2^-24 (|S0| + sum |X|) (float32 sums in any order).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#error "build with -DTLC_KERNEL_HEADER=<the example's header> -DROW_<KERNEL> (scripts/build_gpu_tests.sh)"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Random float16 values of magnitude in [2^-4, 2^(maxExp - 14)) of either sign (exponent
// fields 11 .. maxExp - 1), plus exact zeros about one in 64: never NaN, never the poison.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed, int maxExp = 17) {
  Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = (x >> 58) == 0 ? 0 : uint16_t(((x & 1) << 15) | ((11 + (x >> 1) % uint64_t(maxExp - 11)) << 10) | ((x >> 8) & 0x3ff));
  }
}

[[maybe_unused]] std::vector<double> toDouble(const std::vector<uint16_t>& h) {
  std::vector<double> d(h.size());
  for (size_t i = 0; i < h.size(); ++i) d[i] = halfToFloat(h[i]);
  return d;
}

std::string shapeOf(int M, int N, bool misaligned) {
  return std::to_string(M) + "x" + std::to_string(N) + (misaligned ? " +1 element" : "") + " fp16";
}

// The variant the launcher must pick: _aligned for aligned bases and N % 8 == 0 (every
// example's aligned variant asks for at most that), the general one for a base one
// element off.
void checkVariant(const char* entry, const std::string& kernel, int N, bool misaligned, Checker& check) {
  if (!entry) return check.fail("no variant selected");
  if (misaligned && !isGeneralEntry(entry, kernel.c_str())) check.fail("a misaligned base did not select the general variant");
  if (!misaligned && N % 8 == 0) expectVariant(entry, (kernel + "_aligned").c_str(), kernel, check);
}

// |got - ref| <= 2^-10 |scale| + 2^-24, scale defaulting to |ref|.
[[maybe_unused]] Checker halfChecker() { return Checker(std::ldexp(1.0, -24), std::ldexp(1.0, -10)); }

[[maybe_unused]] void finishRow(const char* name, const std::string& shape, Checker& check, const char* entry) {
  Result r = untimedResult(name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

bool guardsIntact(std::initializer_list<const DeviceBuffer*> buffers) {
  for (const DeviceBuffer* b : buffers)
    if (!b->guardsIntact()) return false;
  return true;
}

#if defined(ROW_SOFTMAX)
void testRow(int M, int N, bool mis) {
  Checker check = halfChecker();
  const size_t elems = size_t(M) * N, off = mis ? 2 : 0;
  std::vector<uint16_t> x(elems), y(elems);
  fillHalf(x, 101u + M * 7u + N);
  DeviceBuffer dx(elems * 2, off), dy(elems * 2, off);
  dx.upload(x.data());
  dy.poison();
  const char* entry = softmax_variant_entry(softmax_select_variant(dx.ptr(), dy.ptr(), M, N));
  checkVariant(entry, "softmax", N, mis, check);
  if (launchAndWait(softmax_launch(dx.ptr(), dy.ptr(), M, N, gpu().stream), check)) {
    dy.download(y.data());
    std::vector<double> xd = toDouble(x);
    for (int i = 0; i < M; ++i) {
      const double* row = &xd[size_t(i) * N];
      double m = -1e300, s = 0;
      for (int j = 0; j < N; ++j) m = std::max(m, row[j]);
      for (int j = 0; j < N; ++j) s += std::exp(row[j] - m);
      for (int j = 0; j < N; ++j) check.add(size_t(i) * N + j, halfToFloat(y[size_t(i) * N + j]), std::exp(row[j] - m) / s);
    }
    if (!guardsIntact({&dx, &dy})) check.fail("wrote outside a buffer");
  }
  finishRow("softmax", shapeOf(M, N, mis), check, entry);
}
#elif defined(ROW_RMSNORM)
void testRow(int M, int N, bool mis) {
  Checker check = halfChecker();
  const size_t elems = size_t(M) * N, off = mis ? 2 : 0;
  std::vector<uint16_t> x(elems), w(N), y(elems);
  fillHalf(x, 103u + M * 7u + N);
  fillHalf(w, 104u + N, 16);
  DeviceBuffer dx(elems * 2, off), dw(size_t(N) * 2, off), dy(elems * 2, off);
  dx.upload(x.data());
  dw.upload(w.data());
  dy.poison();
  const char* entry = rmsnorm_variant_entry(rmsnorm_select_variant(dx.ptr(), dw.ptr(), dy.ptr(), M, N));
  checkVariant(entry, "rmsnorm", N, mis, check);
  if (launchAndWait(rmsnorm_launch(dx.ptr(), dw.ptr(), dy.ptr(), M, N, gpu().stream), check)) {
    dy.download(y.data());
    std::vector<double> xd = toDouble(x), wd = toDouble(w);
    for (int i = 0; i < M; ++i) {
      const double* row = &xd[size_t(i) * N];
      double sq = 0;
      for (int j = 0; j < N; ++j) sq += row[j] * row[j];
      const double r = 1.0 / std::sqrt(sq / N + 1e-6);
      for (int j = 0; j < N; ++j) check.add(size_t(i) * N + j, halfToFloat(y[size_t(i) * N + j]), row[j] * r * wd[j]);
    }
    if (!guardsIntact({&dx, &dw, &dy})) check.fail("wrote outside a buffer");
  }
  finishRow("rmsnorm", shapeOf(M, N, mis), check, entry);
}
#elif defined(ROW_LAYERNORM)
void testRow(int M, int N, bool mis) {
  Checker check = halfChecker();
  const size_t elems = size_t(M) * N, off = mis ? 2 : 0;
  std::vector<uint16_t> x(elems), w(N), b(N), y(elems);
  fillHalf(x, 107u + M * 7u + N);
  fillHalf(w, 108u + N, 16);
  fillHalf(b, 109u + N, 16);
  DeviceBuffer dx(elems * 2, off), dw(size_t(N) * 2, off), db(size_t(N) * 2, off), dy(elems * 2, off);
  dx.upload(x.data());
  dw.upload(w.data());
  db.upload(b.data());
  dy.poison();
  const char* entry = layernorm_variant_entry(layernorm_select_variant(dx.ptr(), dw.ptr(), db.ptr(), dy.ptr(), M, N));
  checkVariant(entry, "layernorm", N, mis, check);
  if (launchAndWait(layernorm_launch(dx.ptr(), dw.ptr(), db.ptr(), dy.ptr(), M, N, gpu().stream), check)) {
    dy.download(y.data());
    std::vector<double> xd = toDouble(x), wd = toDouble(w), bd = toDouble(b);
    for (int i = 0; i < M; ++i) {
      const double* row = &xd[size_t(i) * N];
      double mean = 0, var = 0;
      for (int j = 0; j < N; ++j) mean += row[j];
      mean /= N;
      for (int j = 0; j < N; ++j) var += (row[j] - mean) * (row[j] - mean);
      const double rstd = 1.0 / std::sqrt(var / N + 1e-5);
      for (int j = 0; j < N; ++j) {
        const double scaled = (row[j] - mean) * rstd * wd[j];
        check.add(size_t(i) * N + j, halfToFloat(y[size_t(i) * N + j]), scaled + bd[j], std::fabs(scaled) + std::fabs(bd[j]));
      }
    }
    if (!guardsIntact({&dx, &dw, &db, &dy})) check.fail("wrote outside a buffer");
  }
  finishRow("layernorm", shapeOf(M, N, mis), check, entry);
}
#elif defined(ROW_FP8_QUANT)
// The e4m3 code nearest to a float32 value, ties to the even code, saturating at 448
// (the kernel's inputs are finite): a binary search over the 127 non-negative codes.
uint8_t encodeE4m3(float x) {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (int c = 0; c < 0x7F; ++c) {
      int e = (c >> 3) & 15, m = c & 7;
      v.push_back(e == 0 ? std::ldexp(double(m), -9) : std::ldexp(1.0 + m / 8.0, e - 7));
    }
    return v;
  }();
  const uint8_t sign = std::signbit(x) ? 0x80 : 0;
  const double a = std::fabs(double(x));
  if (a >= values.back()) return uint8_t(0x7E | sign);
  size_t hi = size_t(std::upper_bound(values.begin(), values.end(), a) - values.begin());  // values[hi] > a
  size_t lo = hi - 1;
  const double dl = a - values[lo], dh = values[hi] - a;
  size_t code = dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi);
  return uint8_t(code | sign);
}

void testRow(int M, int N, bool mis) {
  Checker check;  // exact
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems);
  fillHalf(x, 113u + M * 7u + N);
  if (M > 2)
    for (int j = 0; j < N; ++j) x[size_t(2) * N + j] = 0;  // an all-zero row: scale 1e-4 / 448, codes 0
  std::vector<uint8_t> q(elems);
  std::vector<float> s(M);
  DeviceBuffer dx(elems * 2, mis ? 2 : 0), dq(elems, mis ? 1 : 0), ds(size_t(M) * 4, mis ? 4 : 0);
  dx.upload(x.data());
  dq.poison();
  ds.poison();
  const char* entry = fp8_quant_variant_entry(fp8_quant_select_variant(dx.ptr(), dq.ptr(), ds.ptr(), M, N));
  checkVariant(entry, "fp8_quant", N, mis, check);
  if (launchAndWait(fp8_quant_launch(dx.ptr(), dq.ptr(), ds.ptr(), M, N, gpu().stream), check)) {
    dq.download(q.data());
    ds.download(s.data());
    for (int i = 0; i < M; ++i) {
      double amax = 0;
      for (int j = 0; j < N; ++j) amax = std::max(amax, std::fabs(double(halfToFloat(x[size_t(i) * N + j]))));
      const float scale = float(std::max(amax, double(1e-4f)) / 448.0);  // one rounding, as the kernel's division
      uint32_t gotBits, wantBits;
      std::memcpy(&gotBits, &s[i], 4);
      std::memcpy(&wantBits, &scale, 4);
      check.addBits(size_t(i), gotBits, wantBits);
      const float inverse = 1.0f / scale;  // the kernel's R[i], correctly rounded
      for (int j = 0; j < N; ++j) {
        const size_t e = size_t(i) * N + j;
        const float r = halfToFloat(x[e]) * inverse;  // float32 products, as the kernel's
        check.addBits(size_t(M) + e, int(q[e]), int(encodeE4m3(r)));
      }
    }
    if (!guardsIntact({&dx, &dq, &ds})) check.fail("wrote outside a buffer");
  }
  finishRow("fp8_quant", shapeOf(M, N, mis), check, entry);
}
#elif defined(ROW_COL_SUM)
void testRow(int M, int N, bool mis) {
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems);
  std::vector<float> s0(N), s(N);
  fillHalf(x, 127u + M * 7u + N);
  fillUniform(s0, 128u + N, -4.0f, 4.0f);
  DeviceBuffer dx(elems * 2, mis ? 2 : 0), ds(size_t(N) * 4, mis ? 4 : 0);
  dx.upload(x.data());
  ds.upload(s0.data());  // the kernel adds into S
  const char* entry = col_sum_variant_entry(col_sum_select_variant(dx.ptr(), ds.ptr(), M, N));
  checkVariant(entry, "col_sum", N, mis, check);
  if (launchAndWait(col_sum_launch(dx.ptr(), ds.ptr(), M, N, gpu().stream), check)) {
    ds.download(s.data());
    std::vector<double> sum(s0.begin(), s0.end()), scale(N);
    for (int j = 0; j < N; ++j) scale[j] = std::fabs(s0[j]);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double v = halfToFloat(x[size_t(i) * N + j]);
        sum[j] += v;
        scale[j] += std::fabs(v);
      }
    // At most M float32 additions inside the blocks and one atomic per block: 2M + 2 roundings.
    Checker sums(0, double(2 * M + 2) * std::ldexp(1.0, -24));
    for (int j = 0; j < N; ++j) sums.add(size_t(j), s[j], sum[j], scale[j]);
    if (!guardsIntact({&dx, &ds})) check.fail("wrote outside a buffer");
    Result r = untimedResult("col_sum", shapeOf(M, N, mis), check.passed() && sums.passed(), entry ? entry : "?");
    r.maxErr = sums.maxError();
    report(r);
    return;
  }
  finishRow("col_sum", shapeOf(M, N, mis), check, entry);
}
#elif defined(ROW_BIAS_GELU)
void testRow(int M, int N, bool mis) {
  Checker check(std::ldexp(1.0, -24), std::ldexp(1.0, -10));
  const size_t elems = size_t(M) * N, off = mis ? 2 : 0;
  std::vector<uint16_t> x(elems), b(N), y(elems);
  fillHalf(x, 131u + M * 7u + N);
  fillHalf(b, 132u + N, 16);
  DeviceBuffer dx(elems * 2, off), db(size_t(N) * 2, off), dy(elems * 2, off);
  dx.upload(x.data());
  db.upload(b.data());
  dy.poison();
  const char* entry = bias_gelu_variant_entry(bias_gelu_select_variant(dx.ptr(), db.ptr(), dy.ptr(), M, N));
  checkVariant(entry, "bias_gelu", N, mis, check);
  if (launchAndWait(bias_gelu_launch(dx.ptr(), db.ptr(), dy.ptr(), M, N, gpu().stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const size_t e = size_t(i) * N + j;
        const double v = double(halfToFloat(x[e])) + double(halfToFloat(b[j]));
        const double ref = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        // scale: |ref| plus |v| 2^-10 (tanh's float32 ulps where 1 + tanh cancels)
        check.add(e, halfToFloat(y[e]), ref, std::fabs(ref) + std::ldexp(std::fabs(v), -10));
      }
    if (!guardsIntact({&dx, &db, &dy})) check.fail("wrote outside a buffer");
  }
  finishRow("bias_gelu", shapeOf(M, N, mis), check, entry);
}
#else
#error "define one of ROW_SOFTMAX ROW_RMSNORM ROW_LAYERNORM ROW_FP8_QUANT ROW_COL_SUM ROW_BIAS_GELU"
#endif

}  // namespace

int main() {
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "row_kernels"
#endif
  std::printf("# %s on %s\n", TLC_TEST_NAME, gpu().name.c_str());
  for (bool misaligned : {false, true})
    for (int M : {1, 17, 130})
      for (int N : {1, 7, 127, 1000, 4096, 4099, 8200}) testRow(M, N, misaligned);
#if defined(ROW_COL_SUM)
  testRow(1031, 520, false);  // several row blocks of RB = 256 per column
  testRow(1031, 520, true);
#endif
  return finish();
}
