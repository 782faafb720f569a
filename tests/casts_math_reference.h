// The host reference for tests/gpu/kernels/casts_math.tl, shared by the interpreter's
// unit test (tests/unit/test_casts_math.cpp) and the GPU test (tests/gpu/casts_math.cpp),
// so both hold the kernels to the same values and ULP bounds. Written from the dtypes'
// definitions and tlc's documented semantics (docs/language.md), not from Codegen or
// interp/Numerics: casts round to nearest even between floats (once, from the exact
// value: integers through long double, which holds every int64), float -> int
// truncates and saturates (NaN -> 0), float -> bool is `!= 0` (NaN -> true), bool ->
// number is 0 / 1, integers narrow by truncation and widen by their source's
// signedness. Math is compared with libm in double, rounded to float32.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace casts_math {

enum class Kind { Bool, Int, Float };
struct Type {
  const char* name;
  Kind kind;
  int bits;  // Float: 16 (float16), 17 (bfloat16: our tag), 32, 64
  bool isSigned;
};
// The rows' order in the kernel (casts_math.tl).
inline const std::vector<Type>& types() {
  static const std::vector<Type> t = {
      {"bool", Kind::Bool, 8, false},     {"int8", Kind::Int, 8, true},       {"int16", Kind::Int, 16, true},
      {"int32", Kind::Int, 32, true},     {"int64", Kind::Int, 64, true},     {"uint8", Kind::Int, 8, false},
      {"uint16", Kind::Int, 16, false},   {"uint32", Kind::Int, 32, false},   {"uint64", Kind::Int, 64, false},
      {"float16", Kind::Float, 16, true}, {"bfloat16", Kind::Float, 17, true}, {"float32", Kind::Float, 32, true},
      {"float64", Kind::Float, 64, true}};
  return t;
}
constexpr int kTypes = 13;
constexpr int kCastRows = 2 * kTypes;  // X (float32) rows, then K (int64) rows
constexpr int kMathRows = 39;

// A value of some type: integers and bool in `i` (extended by signedness), floats in `f`.
struct Value {
  int64_t i = 0;
  double f = 0;
};

// Round `x` to nearest even with `mantissa` fraction bits, normal exponents down to
// `minExp` (subnormals below), overflowing to +-inf beyond `maxFinite`.
inline double roundTo(long double x, int mantissa, int minExp, double maxFinite) {
  if (std::isnan(x) || std::isinf(x) || x == 0) return double(x);
  int e = std::ilogb(x);
  if (e < minExp) e = minExp;
  long double q = std::ldexp((long double)1, e - mantissa);
  long double r = std::nearbyint(x / q) * q;
  if (std::fabs(r) > maxFinite) return std::copysign(INFINITY, double(x));
  return double(r);
}

inline double roundFloat(long double x, int bits) {
  switch (bits) {
    case 16: return roundTo(x, 10, -14, 65504.0);
    case 17: return roundTo(x, 7, -126, 3.3895313892515355e38);
    case 32: return roundTo(x, 23, -126, 3.4028234663852886e38);
    default: return roundTo(x, 52, -1022, std::numeric_limits<double>::max());
  }
}

inline int64_t wrapInt(uint64_t bits64, const Type& to) {
  if (to.bits == 64) return int64_t(bits64);
  uint64_t mask = (uint64_t(1) << to.bits) - 1, low = bits64 & mask;
  if (to.isSigned && ((low >> (to.bits - 1)) & 1)) low |= ~mask;
  return int64_t(low);
}

// `v` of type `from` as type `to`.
inline Value convert(Value v, const Type& from, const Type& to) {
  Value r;
  if (from.kind == Kind::Float) {
    double x = v.f;
    if (to.kind == Kind::Bool) r.i = (x != 0 || std::isnan(x)) ? 1 : 0;
    else if (to.kind == Kind::Float) r.f = roundFloat(x, to.bits);
    else if (std::isnan(x)) r.i = 0;
    else {
      double t = std::trunc(x);
      if (to.isSigned) {
        double lo = -std::ldexp(1.0, to.bits - 1), hi = std::ldexp(1.0, to.bits - 1);
        r.i = t <= lo ? (to.bits == 64 ? INT64_MIN : int64_t(lo)) : t >= hi ? (to.bits == 64 ? INT64_MAX : int64_t(hi) - 1) : int64_t(t);
      } else {
        double hi = std::ldexp(1.0, to.bits);
        uint64_t u = t <= 0 ? 0 : t >= hi ? (to.bits == 64 ? ~uint64_t(0) : (uint64_t(1) << to.bits) - 1) : uint64_t(t);
        r.i = int64_t(u);
      }
    }
    return r;
  }
  // From an integer or bool (held extended by its signedness).
  if (to.kind == Kind::Bool) r.i = v.i != 0;
  else if (to.kind == Kind::Int) r.i = from.kind == Kind::Bool ? v.i : wrapInt(uint64_t(v.i), to);
  else {
    long double exact = (from.kind == Kind::Int && !from.isSigned) ? (long double)uint64_t(v.i) : (long double)v.i;
    r.f = roundFloat(exact, to.bits);
  }
  return r;
}

inline const Type& float32Type() { return types()[11]; }
inline const Type& int64Type() { return types()[4]; }

// The expected F (float32) and L (int64) of cast row `row` for input x (float32) / k.
inline void castRow(int row, float x, int64_t k, float& f, int64_t& l) {
  const Type& t = types()[row % kTypes];
  Value in;
  const Type* from;
  if (row < kTypes) in.f = x, from = &float32Type();
  else in.i = k, from = &int64Type();
  Value mid = convert(in, *from, t);
  f = float(convert(mid, t, float32Type()).f);
  l = convert(mid, t, int64Type()).i;
}

// Distance in units in the last place between two float32 values (0 when both are NaN
// or equal, huge when only one is NaN or they differ and either is infinite).
inline int64_t ulpDistance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : INT64_MAX;
  if (a == b) return 0;
  if (std::isinf(a) || std::isinf(b)) return INT64_MAX;
  auto ordered = [](float v) {
    int32_t bits;
    std::memcpy(&bits, &v, 4);
    return bits < 0 ? -int64_t(bits & 0x7FFFFFFF) : int64_t(bits);
  };
  int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

// Math rows: name, reference, ULP bound (Codegen's stated accuracy, docs and comments
// in backend/Codegen.cpp: ex2.approx 2 ulp, log and log2 by a series ~2 ulp, tanh by
// a polynomial or 1 - 2/(e^2x + 1), pow through exp2(y log2 x) on a small range;
// docs/language.md's table for the rows from 13 on: sin cos erf sigmoid pow 1 ulp,
// fmod and the rounding / classification / clamp rows exact, the fast (__) rows the
// bounds CUDA documents for the same instructions, see mathWithinBound).
struct MathRow {
  const char* name;
  int64_t ulps;
};
inline const std::vector<MathRow>& mathRows() {
  static const std::vector<MathRow> rows = {
      {"exp", 4},     {"exp2", 2},      {"log", 4},        {"log2", 4},      {"sqrt", 0},     {"rsqrt", 1},
      {"tanh", 8},    {"abs", 0},       {"div", 0},        {"pow", 16},      {"min", 0},      {"max", 0},
      {"square", 1},  {"sin", 1},       {"cos", 1},        {"erf", 1},       {"sigmoid", 1},  {"pow()", 1},
      {"fmod", 0},    {"floor", 0},     {"ceil", 0},       {"trunc", 0},     {"round", 0},    {"nearbyint", 0},
      {"isnan", 0},   {"isinf", 0},     {"isfinite", 0},   {"clamp", 0},     {"__exp", 2},    {"__exp2", 2},
      {"__exp10", 2}, {"__log", 3},     {"__log2", 2},     {"__log10", 3},   {"__sin", 0},    {"__cos", 0},
      {"__tan", 2},   {"sin fp16", 1 << 13}, {"pow bf16", 1 << 16}};
  return rows;
}

// x rounded to float16 / bfloat16 (held in a float).
inline float toHalf(float x) { return float(roundFloat(x, 16)); }
inline float toBFloat16(float x) { return float(roundFloat(x, 17)); }

inline float mathRow(int row, float x, float y, float p) {
  double X = x, Y = y, P = p;
  long double LX = x, LY = y;
  switch (row) {
    case 0: return float(std::exp(X));
    case 1: return float(std::exp2(X));
    case 2: return float(std::log(X));
    case 3: return float(std::log2(X));
    case 4: return float(std::sqrt(X));
    case 5: return float(1.0 / std::sqrt(X));
    case 6: return float(std::tanh(X));
    case 7: return std::fabs(x);
    case 8: return float(X / Y);
    case 9: return float(std::pow(P, Y));
    case 10: return std::fmin(x, y);
    case 11: return std::fmax(x, y);
    case 12: return float(P * P);
    // long double references, rounded to double then float (exact but for ties that
    // no 1-ulp bound can see).
    case 13: return float(double(sinl(LX)));
    case 14: return float(double(cosl(LX)));
    case 15: return float(double(erfl(LX)));
    case 16: return float(double(1 / (1 + expl(-LX))));
    case 17: return float(double(powl(LX, LY)));
    case 18: return std::fmod(x, y);
    case 19: return std::floor(x);
    case 20: return std::ceil(x);
    case 21: return std::trunc(x);
    case 22: return std::round(x);  // half away from zero
    case 23: return std::nearbyint(x);  // half to even
    case 24: return std::isnan(x) ? 1.0f : 0.0f;
    case 25: return std::isinf(x) ? 1.0f : 0.0f;
    case 26: return std::isfinite(x) ? 1.0f : 0.0f;
    case 27: return std::isnan(x) ? x : std::fmin(std::fmax(x, -p), p);
    case 28: return float(double(expl(LY)));
    case 29: return float(double(exp2l(LY)));
    case 30: return float(double(powl(10.0L, LY)));
    case 31: return float(double(logl(LX)));
    case 32: return float(double(log2l(LX)));
    case 33: return float(double(log10l(LX)));
    case 34: return float(double(sinl(LX)));
    case 35: return float(double(cosl(LX)));
    case 36: return float(double(tanl(LX)));
    case 37: return toHalf(float(double(sinl(toHalf(x)))));
    default: return toBFloat16(float(double(powl(toBFloat16(p), toBFloat16(y)))));
  }
}

// Whether `got` is within row's bound of `want`: its ULP bound, or for the fast rows
// the further bounds CUDA documents for __expf / __exp10f (2 + |1.173 x| / 2 + |2.97 x|
// ulp), __logf / __log2f / __log10f (absolute 2^-21.41 / 2^-22 / 2^-24 for x in
// [0.5, 2]; tlc's __log10 is lg2.approx * log10(2), so 2^-23 here), __sinf / __cosf
// (absolute 2^-21.41 on [-pi, pi]; tlc reduces |x| <= 25000 to there: 2^-20.5), __tan
// from them; subnormal results of ex2.approx within 2^-132 absolute.
inline bool mathWithinBound(int row, float x, float y, float p, float got, float want) {
  (void)p;
  int64_t d = ulpDistance(got, want);
  if (d <= mathRows()[row].ulps) return true;
  double err = std::fabs(double(got) - double(want));
  if (!std::isfinite(err)) return false;
  bool subnormal = std::fabs(want) < 0x1p-126;
  switch (row) {
    case 28: return d <= 2 + int64_t(std::fabs(1.173 * y)) || (subnormal && err <= 0x1p-132);
    case 29: return subnormal && err <= 0x1p-132;
    case 30: return d <= 2 + int64_t(std::fabs(2.97 * y)) || (subnormal && err <= 0x1p-132);
    case 31: return x >= 0.5f && x <= 2.0f && err <= 0x1p-21;
    case 32: return x >= 0.5f && x <= 2.0f && err <= 0x1p-22;
    case 33: return x >= 0.5f && x <= 2.0f && err <= 0x1p-23;
    case 34:
    case 35: return err <= 0x1p-20;
    case 36: return err <= 0x1p-20 * (1 + std::fabs(double(want))) * (1 + std::fabs(double(want)));
    default: return false;
  }
}

// Inputs: edge values first (ties of float16 / bfloat16, subnormals, +-0, +-Inf,
// NaN, saturation edges of every integer width, int64 values whose float32 rounding
// a double rounding would get wrong), then random ones; deterministic.
struct Inputs {
  std::vector<float> x, y, p;
  std::vector<int64_t> k;
};
inline Inputs makeInputs(int n, uint32_t seed) {
  Inputs in;
  const float inf = INFINITY, nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, -2.5f, 0.625f, -0.625f, 0.6249f,
                           1 + std::ldexp(1.0f, -11), 1 + 3 * std::ldexp(1.0f, -11), -(1 + 3 * std::ldexp(1.0f, -11)),
                           1 + std::ldexp(1.0f, -8), 1 + 3 * std::ldexp(1.0f, -8), 1 + std::ldexp(1.0f, -23),
                           65504.0f, 65519.0f, 65520.0f, std::ldexp(1.0f, -24), std::ldexp(1.0f, -25),
                           3 * std::ldexp(1.0f, -26), std::ldexp(1.0f, -149), 1e-40f, 3.4e38f, -3.4e38f, inf, -inf, nan,
                           127.9f, -128.9f, 255.5f, 300.7f, -200.5f, 32767.5f, -32769.0f, 65535.9f, 4e9f, -3e9f,
                           2147483520.0f, 2147483648.0f, -2147483904.0f, 1e19f, 2e19f, 1e20f, -1e20f,
                           88.0f, 89.0f, -87.0f, -104.0f, -150.0f, -88.5f, -95.25f, -100.0f, -130.5f, -140.25f, -148.5f, 127.5f, 128.0f, 0.999f, 1.001f, 9.0f, 20.0f,
                           // sin / cos: huge arguments, the edges of their reduction
                           std::ldexp(16367173.0f, 72), 1048576.0f, 1048575.9f, 1e30f, 25000.0f, 3.14159274f,
                           -1.57079637f, 3.5f, -0.49999997f, 8388609.0f};
  std::vector<int64_t> ks = {0, 1, -1, 127, 128, -129, 200, 255, 256, 300, -300, 32767, 32768, 65535, 65536,
                             4000000000LL, -3000000000LL, INT32_MAX, INT32_MIN, int64_t(INT32_MAX) + 1, 16777217,
                             (int64_t(1) << 53) + 1, (int64_t(1) << 62) + (int64_t(1) << 38) + 1,
                             -((int64_t(1) << 62) + (int64_t(1) << 38) + 1),
                             (int64_t(1) << 62) + (int64_t(1) << 54) + 1,  // the same for bfloat16 (int64_t(1) << 40) + (int64_t(1) << 32) + 1,
                             INT64_MAX, INT64_MIN, int64_t(uint64_t(1) << 63 | (uint64_t(1) << 39) | 1), 65520, 65519};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f), unit(0.5f, 4.0f), expo(-4.0f, 4.0f);
  std::uniform_int_distribution<int> e(-30, 30), bits(0, 63);
  in.x.resize(n), in.y.resize(n), in.p.resize(n), in.k.resize(n);
  for (int i = 0; i < n; ++i) {
    float sign = (rng() & 1) ? -1.0f : 1.0f;
    in.x[i] = i < (int)xs.size() ? xs[i] : sign * std::ldexp(mant(rng), e(rng));
    in.y[i] = (i % 7 == 3) ? in.x[i] : ((rng() & 1) ? -1.0f : 1.0f) * std::ldexp(mant(rng), e(rng) / 4);
    in.p[i] = unit(rng);
    if (i % 5 == 0) in.y[i] = expo(rng);  // pow exponents stay small on some lanes
    uint64_t r = rng(), v = r >> bits(rng);
    if (r & 1) v = ~v + 1;  // negated in unsigned arithmetic (no overflow)
    in.k[i] = i < (int)ks.size() ? ks[i] : int64_t(v);
  }
  return in;
}

// pow (row 9, x ** y) is held to its bound only where |y log2 p| is small (the
// kernel's p in [0.5, 4], y in [-4, 4]); __sin / __cos / __tan only for |x| <= 25000
// (beyond, the reduction's error grows with |x|), and __tan only where |cos x| >=
// 2^-19: nearer a pole, cos's own absolute error (2^-20.5) is as large as cos, so
// the quotient is unbounded (the float nearest -pi/2 gives -inf on the GPU, the
// true value being +2.3e7); elsewhere they are not checked.
inline bool mathChecked(int row, float x, float y, float /*p*/) {
  if (row == 9) return std::fabs(y) <= 4;
  if (row == 36 && std::fabs(std::cos(double(x))) < 0x1p-19) return false;
  if (row >= 34 && row <= 36) return std::fabs(x) <= 25000;
  return true;
}

}  // namespace casts_math
