// Float8E8M0: the float8_e8m0fnu format on the host (OCP MX's scale type E8M0:
// 8 exponent bits, bias 127, no sign, no mantissa, no zero, no Inf). The device code
// (backend/Codegen.cpp) converts the same way; unit and GPU tests compare against
// these.
//
// Code c in 0..254 is 2^(c - 127) (code 0: 2^-127, a float32 subnormal); 255 is NaN.
// To e8m0 (NVIDIA's cvt.rp.satfinite.ue8m0x2.f32, whose software form cuda_fp8.hpp
// gives for targets without it): the smallest power of two at least |x| (rounding
// toward +Inf; the sign is ignored), clamped to [2^-127, 2^127]: 0 and everything
// at most 2^-127 give code 0, magnitudes above 2^127 and +-Inf give 254, NaN 255.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tlc::e8m0 {

inline float toFloat(uint8_t code) {
  if (code == 0xFF) return NAN;
  uint32_t bits = code == 0 ? 0x00400000u : uint32_t(code) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Exact for every double (so for every float32, float16, bfloat16 and integer up to
// 2^53, which the conversions widen to double first).
inline uint8_t fromDouble(double x) {
  uint64_t u;
  std::memcpy(&u, &x, 8);
  u &= ~(uint64_t(1) << 63);
  if (u > 0x7FF0000000000000ull) return 0xFF;
  if (u == 0x7FF0000000000000ull) return 0xFE;
  int64_t exponent = int64_t(u >> 52);  // biased by 1023; 0: zero or subnormal (far below 2^-127)
  if (exponent == 0) return 0;
  int64_t code = exponent - 1023 + 127 + ((u & ((uint64_t(1) << 52) - 1)) != 0 ? 1 : 0);
  return uint8_t(code < 0 ? 0 : code > 254 ? 254 : code);
}

}  // namespace tlc::e8m0
