// Numerics: the GPU's scalar conversions on the host (see Numerics.h), written
// out bit by bit so that the interpreter rounds exactly where the device does.
#include "interp/Numerics.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "ir/Float4.h"
#include "ir/Float8E8M0.h"
#include "ir/MathAlgorithms.h"

namespace tlc::interp {

using ir::DType;

int64_t normalizeInt(int64_t v, DType t) {
  if (t == DType::Bool) return v != 0;
  int width = ir::bits(t);
  if (width >= 64) return v;
  uint64_t mask = (uint64_t(1) << width) - 1;
  uint64_t low = uint64_t(v) & mask;
  if (ir::isSigned(t) && (low >> (width - 1)) & 1) low |= ~mask;
  return int64_t(low);
}

namespace {

// Round to nearest even with `mantissaBits` fraction bits and normal exponents
// down to `minExponent` (below it the spacing stays that of the smallest binade:
// subnormals). Overflow is left to the caller.
double roundToPrecision(double x, int mantissaBits, int minExponent) {
  if (!std::isfinite(x) || x == 0) return x;
  int e = std::ilogb(x);
  if (e < minExponent) e = minExponent;
  double quantum = std::ldexp(1.0, e - mantissaBits);
  return std::nearbyint(x / quantum) * quantum;  // the default rounding mode: to nearest even
}

constexpr double kHalfMax = 65504.0;
constexpr double kBFloat16Max = 3.3895313892515355e38;
constexpr double kE4M3Max = 448.0;
constexpr double kE5M2Max = 57344.0;

uint16_t halfBits(double v) {  // v is exactly a float16 value
  uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  if (std::isnan(v)) return 0x7E00;
  double a = std::fabs(v);
  if (std::isinf(a)) return sign | 0x7C00;
  if (a == 0) return sign;
  int e = std::ilogb(a);
  if (e < -14) return sign | uint16_t(a / std::ldexp(1.0, -24));  // subnormal: a multiple of 2^-24
  uint16_t mantissa = uint16_t((a / std::ldexp(1.0, e) - 1.0) * 1024.0);
  return sign | uint16_t((e + 15) << 10) | mantissa;
}

double halfValue(uint16_t b) {
  double sign = (b & 0x8000) ? -1.0 : 1.0;
  int e = (b >> 10) & 0x1F, m = b & 0x3FF;
  if (e == 0x1F) return m ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(double(m), -24);
  return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}

uint16_t bfloat16Bits(double v) {  // v is exactly a bfloat16 value
  float f = float(v);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f)) return 0x7FC0;
  return uint16_t(u >> 16);
}

double bfloat16Value(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// float32 value -> fp8 code, cvt.rn.satfinite: nearest even, saturating at the
// largest finite magnitude (Inf too), NaN -> 0x7F.
int64_t float8Code(double x, DType t) {
  if (std::isnan(x)) return 0x7F;
  bool e4m3 = t == DType::Float8E4M3;
  int mantissaBits = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15;
  double maxFinite = e4m3 ? kE4M3Max : kE5M2Max;
  int64_t sign = std::signbit(x) ? 0x80 : 0;
  double a = std::isinf(x) ? maxFinite : roundToPrecision(std::fabs(x), mantissaBits, 1 - bias);
  if (a > maxFinite) a = maxFinite;
  if (a == 0) return sign;
  int e = std::ilogb(a);
  if (e < 1 - bias) return sign | int64_t(a / std::ldexp(1.0, 1 - bias - mantissaBits));
  int64_t mantissa = int64_t((a / std::ldexp(1.0, e) - 1.0) * (1 << mantissaBits));
  return sign | (int64_t(e + bias) << mantissaBits) | mantissa;
}

bool isFloat8(DType t) { return t == DType::Float8E4M3 || t == DType::Float8E5M2; }

}  // namespace

double decodeStorageFloat(int64_t code, DType t) {
  code &= 0xFF;
  if (t == DType::Float4E2M1) return tlc::fp4::toFloat(uint8_t(code & 0xF));
  if (t == DType::Float8E8M0) return tlc::e8m0::toFloat(uint8_t(code));
  double sign = (code & 0x80) ? -1.0 : 1.0;
  if (t == DType::Float8E4M3) {
    int e = (code >> 3) & 0xF, m = code & 7;
    if (e == 0xF && m == 7) return std::numeric_limits<double>::quiet_NaN();
    if (e == 0) return sign * std::ldexp(double(m), -9);
    return sign * std::ldexp(1.0 + m / 8.0, e - 7);
  }
  int e = (code >> 2) & 0x1F, m = code & 3;
  if (e == 0x1F) return m ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (e == 0) return sign * std::ldexp(double(m), -16);
  return sign * std::ldexp(1.0 + m / 4.0, e - 15);
}

double roundToFloat(double x, DType t) {
  switch (t) {
    case DType::Float64: return x;
    case DType::Float32: return double(float(x));
    case DType::Float16: {
      double r = roundToPrecision(x, 10, -14);
      return std::fabs(r) > kHalfMax ? std::copysign(INFINITY, r) : r;
    }
    case DType::BFloat16: {
      double r = roundToPrecision(x, 7, -126);
      return std::fabs(r) > kBFloat16Max ? std::copysign(INFINITY, r) : r;
    }
    default: return x;
  }
}

Scalar convertScalar(Scalar s, DType from, DType to) {
  if (from == to) return s;
  Scalar r{};
  // Storage-only floats first, in Codegen's order: fp8 through float16 (exact)
  // when read, from float32 when written; fp4 through float32.
  if (from == DType::Float8E8M0) return convertScalar(floatScalar(decodeStorageFloat(s.i, from)), DType::Float32, to);
  if (isFloat8(from)) return convertScalar(floatScalar(decodeStorageFloat(s.i, from)), DType::Float16, to);
  if (to == DType::Float8E8M0) {
    // Exactly in double first (every float and every integer up to 2^53), as Codegen does.
    double x = from == DType::Float4E2M1 ? decodeStorageFloat(s.i, from) : convertScalar(s, from, DType::Float64).f;
    r.i = tlc::e8m0::fromDouble(x);
    return r;
  }
  if (isFloat8(to)) {
    double x = from == DType::Float4E2M1 ? decodeStorageFloat(s.i, from)
                                         : convertScalar(s, from, DType::Float32).f;
    r.i = float8Code(x, to);
    return r;
  }
  if (from == DType::Float4E2M1) return convertScalar(floatScalar(decodeStorageFloat(s.i, from)), DType::Float32, to);
  if (to == DType::Float4E2M1) {
    double x = holdsFloat(from) ? s.f : convertScalar(s, from, DType::Float32).f;
    r.i = tlc::fp4::fromFloat(x);
    return r;
  }
  if (from == DType::Handle || to == DType::Handle) {
    r.i = to == DType::Handle ? s.i : normalizeInt(s.i, to);
    return r;
  }
  if (to == DType::Bool) {
    r.i = holdsFloat(from) ? (s.f != 0 || std::isnan(s.f)) : s.i != 0;
    return r;
  }
  if (from == DType::Bool) {
    if (holdsFloat(to)) r.f = s.i ? 1.0 : 0.0;
    else r.i = s.i ? 1 : 0;
    return r;
  }
  bool fromFloat = holdsFloat(from), toFloat = holdsFloat(to);
  if (!fromFloat && !toFloat) {
    r.i = normalizeInt(s.i, to);
    return r;
  }
  if (!fromFloat) {
    double x = ir::isSigned(from) ? double(s.i) : double(uint64_t(s.i));
    // float32 rounds once from the integer (cvt.rn.f32.s64): through a double, a
    // 64-bit value beyond 2^53 would round twice (2^62 + 2^38 + 1 -> 2^62, not 2^62 + 2^39).
    if (to == DType::Float32) x = ir::isSigned(from) ? double(float(s.i)) : double(float(uint64_t(s.i)));
    // float16 / bfloat16 likewise (cvt.rn.bf16.s64): rounded in long double, which
    // holds every 64-bit integer, to the type's precision (then exact in a double).
    if ((to == DType::Float16 || to == DType::BFloat16) && std::fabs(x) > 0x1p53) {
      long double exact = ir::isSigned(from) ? (long double)s.i : (long double)uint64_t(s.i);
      long double quantum = std::ldexp((long double)1, std::ilogb(exact) - (to == DType::Float16 ? 10 : 7));
      x = double(std::nearbyint(exact / quantum) * quantum);
    }
    r.f = roundToFloat(x, to);
    return r;
  }
  if (!toFloat) {
    // Saturating truncation (cvt.rzi.sat; NaN -> 0).
    double x = std::trunc(s.f);
    if (std::isnan(x)) {
      r.i = 0;
    } else if (ir::isSigned(to)) {
      int width = ir::bits(to);
      double lo = -std::ldexp(1.0, width - 1), hi = std::ldexp(1.0, width - 1);
      r.i = x <= lo ? (width == 64 ? std::numeric_limits<int64_t>::min() : int64_t(lo))
          : x >= hi ? (width == 64 ? std::numeric_limits<int64_t>::max() : int64_t(hi) - 1)
                    : int64_t(x);
    } else {
      int width = ir::bits(to);
      double hi = std::ldexp(1.0, width);
      uint64_t u = x <= 0 ? 0 : x >= hi ? (width == 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1) : uint64_t(x);
      r.i = int64_t(u);
    }
    return r;
  }
  r.f = roundToFloat(s.f, to);  // float -> float (half <-> bfloat16 through float32 is exact first)
  return r;
}

int elementBytes(DType t) {
  if (t == DType::Float4E2M1) return 0;
  return ir::bits(t) / 8;
}

Scalar loadScalar(const uint8_t* bytes, DType t) {
  Scalar s{};
  switch (t) {
    case DType::Float16: {
      uint16_t b;
      std::memcpy(&b, bytes, 2);
      s.f = halfValue(b);
      return s;
    }
    case DType::BFloat16: {
      uint16_t b;
      std::memcpy(&b, bytes, 2);
      s.f = bfloat16Value(b);
      return s;
    }
    case DType::Float32: {
      float f;
      std::memcpy(&f, bytes, 4);
      s.f = f;
      return s;
    }
    case DType::Float64:
      std::memcpy(&s.f, bytes, 8);
      return s;
    default: {
      uint64_t u = 0;
      std::memcpy(&u, bytes, size_t(elementBytes(t)));  // little-endian host
      s.i = normalizeInt(int64_t(u), t);
      return s;
    }
  }
}

void storeScalar(uint8_t* bytes, Scalar s, DType t) {
  switch (t) {
    case DType::Float16: {
      uint16_t b = halfBits(s.f);
      std::memcpy(bytes, &b, 2);
      return;
    }
    case DType::BFloat16: {
      uint16_t b = bfloat16Bits(s.f);
      std::memcpy(bytes, &b, 2);
      return;
    }
    case DType::Float32: {
      float f = float(s.f);
      std::memcpy(bytes, &f, 4);
      return;
    }
    case DType::Float64:
      std::memcpy(bytes, &s.f, 8);
      return;
    default: {
      uint64_t u = uint64_t(s.i);
      std::memcpy(bytes, &u, size_t(elementBytes(t)));
      return;
    }
  }
}

bool isWideMath(ir::Builtin b) {
  using ir::Builtin;
  return b == Builtin::Sin || b == Builtin::Cos || b == Builtin::Erf || b == Builtin::Sigmoid ||
         b == Builtin::Pow || b == Builtin::Fmod;
}

float wideMathFloat32(ir::Builtin b, float x, float y) {
  using ir::Builtin;
  math::HostArith a;
  double r = 0;
  switch (b) {
    case Builtin::Sin: r = math::sinCosWide(a, double(x), false); break;
    case Builtin::Cos: r = math::sinCosWide(a, double(x), true); break;
    case Builtin::Erf: r = math::erfWide(a, double(x)); break;
    case Builtin::Sigmoid: r = math::sigmoidWide(a, double(x)); break;
    case Builtin::Pow: r = math::powWide(a, double(x), double(y)); break;
    case Builtin::Fmod: r = math::fmodWide(a, double(x), double(y)); break;
    default: return std::numeric_limits<float>::quiet_NaN();
  }
  return float(r);  // round to nearest even, as cvt.rn.f32.f64
}

Scalar atomicCombine(ir::AtomicOp op, ir::DType t, Scalar old, Scalar value) {
  using ir::AtomicOp;
  if (op == AtomicOp::None) return value;
  if (holdsFloat(t)) {
    if (op == AtomicOp::Add) return floatScalar(roundToFloat(old.f + value.f, t));  // exact sum, one rounding
    if (t != ir::DType::Float32) return value;  // sema allows max / min on float32 only
    float o = (float)old.f, v = (float)value.f;
    uint32_t ob, vb;
    std::memcpy(&ob, &o, 4);
    std::memcpy(&vb, &v, 4);
    bool negative = (int32_t)vb < 0;
    // max: max.s32 for a value >= +0, min.u32 for a negative one; min: min.s32, max.u32.
    bool takeValue = op == AtomicOp::Max ? (negative ? vb < ob : (int32_t)vb > (int32_t)ob)
                                         : (negative ? vb > ob : (int32_t)vb < (int32_t)ob);
    return takeValue ? value : old;
  }
  switch (op) {
    case AtomicOp::Add: return intScalar(normalizeInt((int64_t)((uint64_t)old.i + (uint64_t)value.i), t));
    case AtomicOp::Max: return value.i > old.i ? value : old;  // held sign- or zero-extended: compares as t does
    case AtomicOp::Min: return value.i < old.i ? value : old;
    default: return value;
  }
}

}  // namespace tlc::interp
