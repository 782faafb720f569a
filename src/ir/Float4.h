// Float4: the float4_e2m1fn format on the host (OCP MX FP4: 1 sign, 2 exponent and
// 1 mantissa bit, bias 1; no Inf, no NaN). The device code (backend/Codegen.cpp)
// converts the same way; unit and GPU tests compare against these.
//
// Codes 0..7: +0, 0.5, 1, 1.5, 2, 3, 4, 6; codes 8..15 are their negatives.
// To fp4: round to nearest, ties to even code; magnitudes beyond 6 (and +-Inf)
// saturate to +-6; NaN becomes +6 (0x7). Packing: element k of a row lives in byte
// k / 2, the even element in the low nibble.
#pragma once

#include <cmath>
#include <cstdint>

namespace tlc::fp4 {

inline float toFloat(uint8_t code) {
  static const float magnitude[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  float m = magnitude[code & 7];
  return (code & 8) ? -m : m;
}

// The thresholds between neighbouring magnitudes: a tie goes to the even code
// (0.25 -> 0, 0.75 -> 1.0, 1.25 -> 1.0, 1.75 -> 2, 2.5 -> 2, 3.5 -> 4, 5 -> 4).
inline uint8_t fromFloat(double x) {
  if (std::isnan(x)) return 0x7;
  double a = std::fabs(x);
  uint8_t code = (a > 0.25) + (a >= 0.75) + (a > 1.25) + (a >= 1.75) + (a > 2.5) + (a >= 3.5) + (a > 5.0);
  return (uint8_t)(code | (std::signbit(x) ? 8 : 0));
}

// Element k of a packed row.
inline uint8_t element(const uint8_t* row, int64_t k) { return (row[k / 2] >> (4 * (k % 2))) & 0xF; }

}  // namespace tlc::fp4
