// Numerics: the GPU's scalar arithmetic on the host, for the loop-IR interpreter.
//
// A scalar is a `Scalar` whose meaning comes from its dtype: integers, Bool,
// Handle (an address) and the storage-only floats (fp8 and fp4 codes) use `i`,
// held as the value sign- or zero-extended from the type's width; float16,
// bfloat16, float32 and float64 use `f`, always exactly a value of the type (every
// operation rounds once to it). Conversions are those of backend/Codegen.cpp's
// `convert`: round to nearest even between floats, float -> int truncating and
// saturating (NaN -> 0), fp8 through float16/float32 with saturation
// (cvt.rn.satfinite), fp4 as ir/Float4.h.
#pragma once

#include <cstdint>

#include "ir/IR.h"

namespace tlc::interp {

union Scalar {
  int64_t i;
  double f;
};
inline Scalar floatScalar(double f) {
  Scalar s;
  s.f = f;
  return s;
}
inline Scalar intScalar(int64_t i) {
  Scalar s;
  s.i = i;
  return s;
}

// Floats held in `f` (not the storage-only ones).
inline bool holdsFloat(ir::DType t) { return ir::isFloat(t) && !ir::isStorageOnly(t); }

// `v` truncated to the width of integer type `t` and extended by its signedness;
// Bool: 0 or 1.
int64_t normalizeInt(int64_t v, ir::DType t);

// `x` rounded to nearest even in float type `t` (float16, bfloat16, float32,
// float64), overflowing to infinity.
double roundToFloat(double x, ir::DType t);

// A value of type `from` as type `to`, as Codegen converts it.
Scalar convertScalar(Scalar s, ir::DType from, ir::DType to);

// The value of a storage-only code (fp8, fp4) as a double (exact).
double decodeStorageFloat(int64_t code, ir::DType t);

// The float32 result of a math builtin that ir/MathAlgorithms.h computes (sin, cos,
// erf, sigmoid, pow, fmod; `y` is the second argument of pow and fmod): the same
// operations as the GPU code, so the same bits.
float wideMathFloat32(ir::Builtin b, float x, float y);

// Whether `b` is one of wideMathFloat32's builtins.
bool isWideMath(ir::Builtin b);

// The new value of an element `old` of type `t` after atomic `op` with `value`, as
// the GPU's instruction leaves it: integers wrap (add) or compare by signedness;
// float add rounds once to `t`; float32 max / min compare the bits as Codegen's
// integer pair does (signed for value >= +0, reversed unsigned otherwise: -0.0 <
// +0.0, NaN by its bits).
Scalar atomicCombine(ir::AtomicOp op, ir::DType t, Scalar old, Scalar value);

// Bytes an element of `t` occupies in memory (Bool: 1); 0 for float4_e2m1fn, which
// has no byte address.
int elementBytes(ir::DType t);

// Memory <-> scalar: `bytes` holds elementBytes(t) little-endian bytes.
Scalar loadScalar(const uint8_t* bytes, ir::DType t);
void storeScalar(uint8_t* bytes, Scalar s, ir::DType t);

}  // namespace tlc::interp
