// e8m0_reference: the inputs of the float8_e8m0fnu conversion tests, shared by the
// interpreter's unit test (tests/unit/test_e8m0.cpp) and the GPU test
// (tests/gpu/e8m0_fp4_casts.cpp), which hold both to src/ir/Float8E8M0.h exactly.
// Every power of two a float32 holds and its neighbours one ulp either side, the
// region around 2^-127 (code 0 against 1), around 2^127 (saturation), zeros of
// both signs, negatives, Inf, NaN, and pseudo-random bit patterns.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace e8m0_reference {

inline float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

inline std::vector<float> floatInputs() {
  std::vector<float> v;
  for (int e = -149; e <= 127; ++e) {
    float p = std::ldexp(1.0f, e);
    for (float x : {p, std::nextafter(p, 0.0f), std::nextafter(p, INFINITY)}) {
      v.push_back(x);
      v.push_back(-x);
    }
  }
  for (uint32_t b : {0x00000000u, 0x80000000u, 0x00000001u, 0x003FFFFFu, 0x00400000u, 0x00400001u, 0x007FFFFFu,
                     0x00800000u, 0x7F000000u, 0x7F000001u, 0x7F7FFFFFu, 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                     0xFFC00000u, 0x7F800001u})
    v.push_back(fromBits(b));
  uint32_t x = 0x2545F491u;
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    v.push_back(fromBits(x));
  }
  return v;
}

// Integers: 0, +-1, powers of two and their neighbours, the int32 ends.
inline std::vector<int32_t> intInputs(size_t n) {
  std::vector<int32_t> v = {0, 1, -1, 2, 3, -3, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()};
  for (int e = 1; e < 31; ++e) {
    int32_t p = int32_t(1) << e;
    v.push_back(p);
    v.push_back(p - 1);
    v.push_back(p + 1);
    v.push_back(-p - 1);
  }
  while (v.size() < n) v.push_back(int32_t(v.size() * 2654435761u));
  v.resize(n);
  return v;
}

}  // namespace e8m0_reference
