// MathAlgorithms: the float32 math built-ins that tlc computes with IEEE arithmetic
// (sin cos erf sigmoid pow fmod), written once over an arithmetic `A` so that the
// backend (A emits LLVM IR: backend/Codegen.cpp) and the loop-IR interpreter (A
// computes on the host: interp/Numerics.cpp) perform the same operations in the same
// order and get the same bits.
//
// Every function takes float32 values widened exactly to float64 and returns a
// float64 that the caller rounds once to float32 (cvt.rn.f32.f64). The work is done in
// float64 with round-to-nearest operations only (add, sub, mul, div, fma, rint), each
// rounded once, never contracted: far more precision than float32 needs, so the
// rounded result is within 1 ulp (correctly rounded unless the exact value lies within
// ~2^-20 ulp of a rounding boundary). No libdevice, no tables in memory: constants are
// C++ doubles that both sides use as they are.
//
// HostArith (at the end) is the host's arithmetic; backend/Codegen.cpp's IRArith
// emits LLVM IR. The arithmetic `A` provides, for values D (float64), I (int64,
// wrapping), B (bool):
//   D d(double); I i(int64_t);
//   D add(D,D) sub(D,D) mul(D,D) div(D,D) fma(D,D,D) rint(D) abs(D) neg(D)
//   B lt(D,D) eq(D,D) (ordered) isnan(D) isinf(D) signbit(D)
//   D sel(B,D,D); I seli(B,I,I); B band(B,B) bor(B,B) bnot(B)
//   I bits(D); D fromBits(I); D toD(I) (signed); I toI(D) (truncating; only called on
//   integral values within +-2^62)
//   I iadd(I,I) isub(I,I) imul(I,I) iand(I,I) urem(I,I) (divisor nonzero)
//   I shl(I,int) lshr(I,int) (constant amounts in [0, 63])
//   I shlv(I,I) lshrv(I,I) (variable amounts; 0 when the amount is not in [0, 63])
//   B ilt(I,I) (signed) ieq(I,I)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tlc::math {

inline constexpr double kLn2 = 0.6931471805599453;
inline constexpr double kLog2e = 1.4426950408889634;
inline constexpr double kPiOver2 = 1.5707963267948966;
inline constexpr double kTwoOverPi = 0.6366197723675814;

constexpr double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

// 2^t for any t (NaN -> NaN); |t| > 200 is clamped, which is 0 or inf in float32.
// t = n + f with n = rint(t) and |f| <= 1/2 exact; 2^f = e^(f ln2) by its Taylor series
// through degree 13 (the next term is below 2^-57); 2^n by its bits.
template <class A>
typename A::D exp2Wide(A& a, typename A::D t) {
  t = a.sel(a.lt(t, a.d(-200.0)), a.d(-200.0), t);
  t = a.sel(a.lt(a.d(200.0), t), a.d(200.0), t);
  auto n = a.rint(t);
  auto g = a.mul(a.sub(t, n), a.d(kLn2));
  auto p = a.d(1.0 / factorial(13));
  for (int k = 12; k >= 1; --k) p = a.fma(p, g, a.d(1.0 / factorial(k)));
  p = a.fma(p, g, a.d(1.0));
  auto e = a.toI(a.sel(a.isnan(n), a.d(0.0), n));
  auto scale = a.fromBits(a.shl(a.iadd(e, a.i(1023)), 52));
  return a.mul(p, scale);
}

// log2(x) for a positive finite (normal float64) x: x = m 2^e, m in [sqrt(1/2), sqrt(2)),
// ln m = 2 atanh(u), u = (m-1)/(m+1), |u| <= 0.1716, by the odd series through u^23
// (the next term is below 2^-58 of the sum).
template <class A>
typename A::D log2Wide(A& a, typename A::D x) {
  auto bits = a.bits(x);
  auto e = a.isub(a.lshr(bits, 52), a.i(1023));
  auto m = a.fromBits(a.iadd(a.iand(bits, a.i(0x000FFFFFFFFFFFFFLL)), a.i(0x3FF0000000000000LL)));
  auto big = a.bnot(a.lt(m, a.d(1.4142135623730951)));
  m = a.sel(big, a.mul(m, a.d(0.5)), m);
  e = a.seli(big, a.iadd(e, a.i(1)), e);
  auto u = a.div(a.sub(m, a.d(1.0)), a.add(m, a.d(1.0)));
  auto u2 = a.mul(u, u);
  auto q = a.d(1.0 / 23);
  for (int k = 21; k >= 3; k -= 2) q = a.fma(q, u2, a.d(1.0 / k));
  auto lnm = a.mul(a.fma(a.mul(u, u2), q, u), a.d(2.0));
  return a.fma(lnm, a.d(kLog2e), a.toD(e));
}

// pow(x, y) with the special values of C99 Annex F.9.4.4.
template <class A>
typename A::D powWide(A& a, typename A::D x, typename A::D y) {
  auto ax = a.abs(x);
  auto inf = a.d(__builtin_inf());
  auto logAx = log2Wide(a, a.sel(a.bor(a.eq(ax, a.d(0.0)), a.bnot(a.lt(ax, inf))), a.d(1.0), ax));
  logAx = a.sel(a.eq(ax, a.d(0.0)), a.neg(inf), logAx);
  logAx = a.sel(a.isinf(ax), inf, logAx);
  auto magnitude = exp2Wide(a, a.mul(y, logAx));
  auto integral = a.eq(a.rint(y), y);  // +-inf count as even integers
  auto half = a.mul(y, a.d(0.5));
  auto odd = a.band(integral, a.bnot(a.eq(a.rint(half), half)));
  auto r = a.sel(a.band(a.signbit(x), odd), a.neg(magnitude), magnitude);
  // A negative finite base and a non-integral exponent.
  auto nan = a.d(__builtin_nan(""));
  r = a.sel(a.band(a.band(a.lt(x, a.d(0.0)), a.bnot(a.isinf(x))), a.bnot(integral)), nan, r);
  r = a.sel(a.bor(a.isnan(x), a.isnan(y)), nan, r);
  // (-1)^(+-inf) = 1; 1^y = 1 and x^0 = 1 even for a NaN y or x.
  r = a.sel(a.band(a.eq(x, a.d(-1.0)), a.isinf(y)), a.d(1.0), r);
  return a.sel(a.bor(a.eq(x, a.d(1.0)), a.eq(y, a.d(0.0))), a.d(1.0), r);
}

// 2/pi in 24-bit pieces: 2/pi = sum_i kTwoOverPiBits[i] 2^(-24 (i + 1)).
inline constexpr int64_t kTwoOverPiBits[8] = {0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1,
                                              0xF534DD, 0xC0DB62, 0x95993C, 0x439041};

// sin(x) (cosine = false) or cos(x) of a float32 x. |x| = r + q pi/2 with |r| <= pi/4:
// below 2^20 by Cody-Waite with pi/2 in three pieces (33 + 33 + 53 bits, so k * piece
// is exact for k < 2^20); above, |x| = M 2^E (M < 2^24) times 2/pi mod 4 in 2.62
// fixed point (an unsigned 64-bit sum wraps modulo 4) from 192 bits of 2/pi. Then
// sin r and cos r by their Taylor series through degree 17 / 16.
template <class A>
typename A::D sinCosWide(A& a, typename A::D x, bool cosine) {
  auto ax = a.abs(x);
  auto small = a.lt(ax, a.d(1048576.0));
  // Cody-Waite.
  auto k = a.rint(a.mul(ax, a.d(kTwoOverPi)));
  auto negK = a.neg(k);
  auto rSmall = a.fma(negK, a.d(1.5707963267341256), ax);
  rSmall = a.fma(negK, a.d(6.077100506303966e-11), rSmall);
  rSmall = a.fma(negK, a.d(2.0222662487959506e-21), rSmall);
  auto qSmall = a.toI(a.sel(small, k, a.d(0.0)));
  // Payne-Hanek in fixed point: ax = M 2^E, E >= -3 here.
  auto bits = a.bits(ax);
  auto mantissa = a.iadd(a.iand(a.lshr(bits, 29), a.i(0x7FFFFF)), a.i(0x800000));
  auto exponent = a.isub(a.lshr(bits, 52), a.i(1023 + 23));
  auto acc = a.i(0);
  for (int i = 0; i < 8; ++i) {
    // M c_i 2^(E - 24 (i + 1)) in units of 2^-62: shifted by s = E + 38 - 24 i.
    auto product = a.imul(mantissa, a.i(kTwoOverPiBits[i]));
    auto s = a.iadd(exponent, a.i(38 - 24 * i));
    auto term = a.seli(a.ilt(s, a.i(0)), a.lshrv(product, a.isub(a.i(0), s)), a.shlv(product, s));
    acc = a.iadd(acc, term);
  }
  auto quarter = a.lshr(acc, 62);
  auto fraction = a.iand(acc, a.i((int64_t(1) << 62) - 1));
  auto upper = a.bnot(a.ilt(fraction, a.i(int64_t(1) << 61)));
  fraction = a.seli(upper, a.isub(fraction, a.i(int64_t(1) << 62)), fraction);
  quarter = a.seli(upper, a.iadd(quarter, a.i(1)), quarter);
  auto rLarge = a.mul(a.mul(a.toD(fraction), a.d(0x1p-62)), a.d(kPiOver2));
  auto r = a.sel(small, rSmall, rLarge);
  auto q = a.seli(small, qSmall, quarter);
  // The polynomials.
  auto r2 = a.mul(r, r);
  auto s = a.d(1.0 / factorial(17));
  for (int n = 15; n >= 3; n -= 2) s = a.fma(s, r2, a.d(((n / 2) % 2 ? -1.0 : 1.0) / factorial(n)));
  auto sinR = a.fma(a.mul(r, r2), s, r);
  auto c = a.d(1.0 / factorial(16));
  for (int n = 14; n >= 2; n -= 2) c = a.fma(c, r2, a.d(((n / 2) % 2 ? -1.0 : 1.0) / factorial(n)));
  auto cosR = a.fma(r2, c, a.d(1.0));
  // sin(ax) by quadrant q: sin r, cos r, -sin r, -cos r; cos(ax) = sin(ax + pi/2).
  if (cosine) q = a.iadd(q, a.i(1));
  auto v = a.sel(a.ieq(a.iand(q, a.i(1)), a.i(1)), cosR, sinR);
  v = a.sel(a.ieq(a.iand(q, a.i(2)), a.i(2)), a.neg(v), v);
  if (!cosine) v = a.sel(a.signbit(x), a.neg(v), v);
  return a.sel(a.bor(a.isnan(x), a.isinf(x)), a.d(__builtin_nan("")), v);
}

// erfc(x) e^(x^2) on [1, 6]: Chebyshev coefficients in t = (x - 3.5) / 2.5,
// interpolated at 64 Chebyshev nodes (scripts/gen_erf_coefficients.py); the
// truncation after c_22 is below 1e-12.
inline constexpr double kErfcxChebyshev[23] = {
    0.20196598791223078,    -0.14788483553398696,   0.05188222158351389,     -0.017525709964867523,
    0.005721802417478149,   -0.0018109803028142496, 0.000557071435392676,    -0.00016689473052529553,
    4.878565911487984e-05,  -1.3935932859789057e-05, 3.8955145950873155e-06, -1.0668392336175836e-06,
    2.8655025742334306e-07, -7.555861070672465e-08, 1.9575863234241875e-08,  -4.9871100270271196e-09,
    1.2501869522257847e-09, -3.0858840482927974e-10, 7.50448071740184e-11,   -1.7990161443881547e-11,
    4.2534326755161445e-12, -9.922809102169694e-13, 2.285168582139008e-13};

// erf(x): below 1 by its Taylor series x sum (-1)^n x^2n / (n! (2n+1)) 2/sqrt(pi)
// through n = 17; from 1 on, 1 - e^(-x^2) erfcx(x) (|x| clamped at 6, where erf is 1
// in float64 already).
template <class A>
typename A::D erfWide(A& a, typename A::D x) {
  const double twoOverSqrtPi = 1.1283791670955126;
  auto ax = a.abs(x);
  auto x2 = a.mul(ax, ax);
  auto p = a.d(-twoOverSqrtPi / (factorial(17) * 35));
  for (int n = 16; n >= 0; --n) p = a.fma(p, x2, a.d((n % 2 ? -twoOverSqrtPi : twoOverSqrtPi) / (factorial(n) * (2 * n + 1))));
  auto small = a.mul(ax, p);
  auto clamped = a.sel(a.lt(a.d(6.0), ax), a.d(6.0), ax);
  auto t = a.mul(a.sub(clamped, a.d(3.5)), a.d(0.4));
  auto t2 = a.add(t, t);
  auto b1 = a.d(0.0), b2 = a.d(0.0);
  for (int k = 22; k >= 1; --k) {
    auto b0 = a.fma(t2, b1, a.sub(a.d(kErfcxChebyshev[k]), b2));
    b2 = b1;
    b1 = b0;
  }
  auto erfcx = a.fma(t, b1, a.sub(a.d(kErfcxChebyshev[0]), b2));
  auto e = exp2Wide(a, a.mul(a.mul(clamped, clamped), a.d(-kLog2e)));
  auto large = a.fma(a.neg(e), erfcx, a.d(1.0));
  auto r = a.sel(a.lt(ax, a.d(1.0)), small, large);
  return a.sel(a.signbit(x), a.neg(r), r);
}

// sigmoid(x) = 1 / (1 + e^-x).
template <class A>
typename A::D sigmoidWide(A& a, typename A::D x) {
  auto e = exp2Wide(a, a.mul(x, a.d(-kLog2e)));
  return a.div(a.d(1.0), a.add(a.d(1.0), e));
}

// fmod(x, y) of float32 values, exact: |x| = Mx 2^Ex, |y| = My 2^Ey (24-bit
// significands, E unbounded below since float64 holds float32 subnormals normalized);
// for |x| >= |y|, Ex >= Ey and |x| mod |y| = 2^Ey ((Mx mod My) (2^(Ex-Ey) mod My) mod My),
// 2^d mod My by square-and-multiply over d's 9 bits (d <= 276); every product is
// below 2^48. The result has x's sign.
template <class A>
typename A::D fmodWide(A& a, typename A::D x, typename A::D y) {
  auto ax = a.abs(x), ay = a.abs(y);
  auto significand = [&](typename A::I bits) {
    return a.iadd(a.iand(a.lshr(bits, 29), a.i(0x7FFFFF)), a.i(0x800000));
  };
  auto exponentOf = [&](typename A::I bits) { return a.isub(a.lshr(bits, 52), a.i(1023 + 23)); };
  auto bx = a.bits(ax), by = a.bits(ay);
  auto mx = significand(bx), my = significand(by);
  auto ey = exponentOf(by);
  auto d = a.iand(a.isub(exponentOf(bx), ey), a.i(511));
  auto p = a.i(1);
  for (int b = 8; b >= 0; --b) {
    p = a.urem(a.imul(p, p), my);
    auto doubled = a.urem(a.shl(p, 1), my);
    p = a.seli(a.ieq(a.iand(d, a.i(int64_t(1) << b)), a.i(0)), p, doubled);
  }
  auto rem = a.urem(a.imul(a.urem(mx, my), p), my);
  auto scale = a.fromBits(a.shl(a.iand(a.iadd(ey, a.i(1023)), a.i(2047)), 52));
  auto r = a.mul(a.toD(rem), scale);
  r = a.sel(a.signbit(x), a.neg(r), r);
  r = a.sel(a.lt(ax, ay), x, r);
  auto nanCase = a.bor(a.bor(a.isnan(x), a.isnan(y)), a.bor(a.isinf(x), a.eq(ay, a.d(0.0))));
  return a.sel(nanCase, a.d(__builtin_nan("")), r);
}

// The arithmetic on the host: IEEE float64 in the default rounding mode, int64
// wrapping. An includer must not contract a * b + c (interp is built with
// -ffp-contract=off; x86-64 without -mfma has nothing to contract into).
struct HostArith {
  using D = double;
  using I = int64_t;
  using B = bool;
  static D d(double c) { return c; }
  static I i(int64_t c) { return c; }
  static D add(D x, D y) { return x + y; }
  static D sub(D x, D y) { return x + (-y); }
  static D mul(D x, D y) { return x * y; }
  static D div(D x, D y) { return x / y; }
  static D fma(D x, D y, D z) { return std::fma(x, y, z); }
  static D rint(D x) { return std::nearbyint(x); }
  static D abs(D x) { return std::fabs(x); }
  static D neg(D x) { return -x; }
  static B lt(D x, D y) { return x < y; }
  static B eq(D x, D y) { return x == y; }
  static B isnan(D x) { return std::isnan(x); }
  static B isinf(D x) { return std::isinf(x); }
  static B signbit(D x) { return std::signbit(x); }
  static D sel(B c, D x, D y) { return c ? x : y; }
  static I seli(B c, I x, I y) { return c ? x : y; }
  static B band(B x, B y) { return x && y; }
  static B bor(B x, B y) { return x || y; }
  static B bnot(B x) { return !x; }
  static I bits(D x) {
    I b;
    std::memcpy(&b, &x, 8);
    return b;
  }
  static D fromBits(I b) {
    D x;
    std::memcpy(&x, &b, 8);
    return x;
  }
  static D toD(I x) { return double(x); }
  static I toI(D x) { return int64_t(x); }
  static I iadd(I x, I y) { return int64_t(uint64_t(x) + uint64_t(y)); }
  static I isub(I x, I y) { return int64_t(uint64_t(x) - uint64_t(y)); }
  static I imul(I x, I y) { return int64_t(uint64_t(x) * uint64_t(y)); }
  static I iand(I x, I y) { return x & y; }
  static I urem(I x, I y) { return int64_t(uint64_t(x) % uint64_t(y)); }
  static I shl(I x, int n) { return int64_t(uint64_t(x) << n); }
  static I lshr(I x, int n) { return int64_t(uint64_t(x) >> n); }
  static I shlv(I x, I n) { return uint64_t(n) < 64 ? int64_t(uint64_t(x) << n) : 0; }
  static I lshrv(I x, I n) { return uint64_t(n) < 64 ? int64_t(uint64_t(x) >> n) : 0; }
  static B ilt(I x, I y) { return x < y; }
  static B ieq(I x, I y) { return x == y; }
};

}  // namespace tlc::math
