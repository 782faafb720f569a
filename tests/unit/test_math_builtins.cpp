// The float32 math of ir/MathAlgorithms.h (sin cos erf sigmoid pow fmod) as the
// interpreter computes it (interp::wideMathFloat32, the same operations as the GPU
// code): special values exactly (C99 Annex F), and sweeps over random and structured
// inputs against long double libm rounded to float32, within the documented bound of
// 1 ulp (fmod: exact). The rounding and classification builtins, clamp and the fast
// variants run through the interpreter in test_casts_math.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>

#include "../casts_math_reference.h"
#include "interp/Numerics.h"

using namespace tlc;
using ir::Builtin;

namespace {

const float kInf = INFINITY;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

float wide(Builtin b, float x, float y = 0) { return interp::wideMathFloat32(b, x, y); }

// Identical values: the same bits, or both NaN.
bool same(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

float reference(Builtin b, float x, float y) {
  long double X = x, Y = y;
  switch (b) {
    case Builtin::Sin: return float(double(sinl(X)));
    case Builtin::Cos: return float(double(cosl(X)));
    case Builtin::Erf: return float(double(erfl(X)));
    case Builtin::Sigmoid: return float(double(1 / (1 + expl(-X))));
    case Builtin::Pow: return float(double(powl(X, Y)));
    default: return float(fmodl(X, Y));
  }
}

float randomBits(std::mt19937& rng) {
  uint32_t u = rng();
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The largest ULP distance over n inputs from `make`, with the worst input reported.
template <class Make>
int64_t sweep(Builtin b, int n, uint32_t seed, Make make) {
  std::mt19937 rng(seed);
  int64_t worst = 0;
  for (int i = 0; i < n; ++i) {
    auto [x, y] = make(rng, i);
    float got = wide(b, x, y), want = reference(b, x, y);
    int64_t d = casts_math::ulpDistance(got, want);
    if (d > worst) {
      worst = d;
      std::ostringstream what;
      what << std::hexfloat << ir::name(b) << "(" << x << ", " << y << "): got " << got << ", want " << want;
      MESSAGE(what.str());
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("math builtins: sin and cos special values and huge arguments") {
  CHECK(same(wide(Builtin::Sin, 0.0f), 0.0f));
  CHECK(same(wide(Builtin::Sin, -0.0f), -0.0f));
  CHECK(same(wide(Builtin::Cos, -0.0f), 1.0f));
  for (float x : {kInf, -kInf, kNaN}) {
    CHECK(std::isnan(wide(Builtin::Sin, x)));
    CHECK(std::isnan(wide(Builtin::Cos, x)));
  }
  // Subnormals: sin x = x.
  for (float x : {std::ldexp(1.0f, -149), -std::ldexp(3.0f, -140), 1e-39f})
    CHECK(same(wide(Builtin::Sin, x), x));
  // Huge arguments need all of 2/pi's bits (Payne-Hanek): the largest float, powers
  // of two through 2^127, 16367173 * 2^72 (a float very near a multiple of pi/2), the
  // edges of the Cody-Waite range (2^20).
  std::vector<float> huge = {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                             std::ldexp(16367173.0f, 72), std::ldexp(16367173.0f, -1), 1e20f, 1e30f, 1048576.0f,
                             1048575.9f, 8388607.0f, 8388608.0f, 16777216.0f};
  for (int e = 0; e <= 127; ++e) huge.push_back(std::ldexp(1.0f, e));
  for (float x : huge) {
    CAPTURE(x);
    CHECK(casts_math::ulpDistance(wide(Builtin::Sin, x), reference(Builtin::Sin, x, 0)) <= 1);
    CHECK(casts_math::ulpDistance(wide(Builtin::Cos, x), reference(Builtin::Cos, x, 0)) <= 1);
  }
}

TEST_CASE("math builtins: erf and sigmoid special values") {
  CHECK(same(wide(Builtin::Erf, 0.0f), 0.0f));
  CHECK(same(wide(Builtin::Erf, -0.0f), -0.0f));
  CHECK(same(wide(Builtin::Erf, kInf), 1.0f));
  CHECK(same(wide(Builtin::Erf, -kInf), -1.0f));
  CHECK(same(wide(Builtin::Erf, 10.0f), 1.0f));
  CHECK(std::isnan(wide(Builtin::Erf, kNaN)));
  CHECK(same(wide(Builtin::Erf, std::ldexp(1.0f, -149)), std::ldexp(1.0f, -149)));  // 1.128 * 2^-149 rounds back
  CHECK(same(wide(Builtin::Sigmoid, 0.0f), 0.5f));
  CHECK(same(wide(Builtin::Sigmoid, kInf), 1.0f));
  CHECK(same(wide(Builtin::Sigmoid, -kInf), 0.0f));
  CHECK(same(wide(Builtin::Sigmoid, -200.0f), 0.0f));
  CHECK(std::isnan(wide(Builtin::Sigmoid, kNaN)));
  // Subnormal results: e^-x near the bottom of float32.
  for (float x : {-88.0f, -100.0f, -103.0f, -103.9f})
    CHECK(casts_math::ulpDistance(wide(Builtin::Sigmoid, x), reference(Builtin::Sigmoid, x, 0)) <= 1);
}

TEST_CASE("math builtins: pow follows C99 Annex F.9.4.4") {
  auto pow = [](float x, float y) { return wide(Builtin::Pow, x, y); };
  for (float x : {0.0f, -0.0f, 2.0f, -3.0f, kInf, -kInf, kNaN}) {
    CHECK(same(pow(x, 0.0f), 1.0f));
    CHECK(same(pow(x, -0.0f), 1.0f));
  }
  for (float y : {0.5f, -7.0f, kInf, -kInf, kNaN}) CHECK(same(pow(1.0f, y), 1.0f));
  CHECK(same(pow(-1.0f, kInf), 1.0f));
  CHECK(same(pow(-1.0f, -kInf), 1.0f));
  CHECK(same(pow(0.0f, -3.0f), kInf));
  CHECK(same(pow(-0.0f, -3.0f), -kInf));
  CHECK(same(pow(-0.0f, -2.0f), kInf));
  CHECK(same(pow(-0.0f, -0.5f), kInf));
  CHECK(same(pow(-0.0f, -kInf), kInf));
  CHECK(same(pow(-0.0f, 3.0f), -0.0f));
  CHECK(same(pow(0.0f, 3.0f), 0.0f));
  CHECK(same(pow(-0.0f, 2.0f), 0.0f));
  CHECK(same(pow(-0.0f, 0.5f), 0.0f));
  CHECK(same(pow(-0.0f, kInf), 0.0f));
  CHECK(std::isnan(pow(-2.0f, 0.5f)));
  CHECK(std::isnan(pow(kNaN, 1.0f)));
  CHECK(std::isnan(pow(2.0f, kNaN)));
  CHECK(same(pow(0.5f, -kInf), kInf));
  CHECK(same(pow(-0.5f, -kInf), kInf));
  CHECK(same(pow(2.0f, -kInf), 0.0f));
  CHECK(same(pow(0.5f, kInf), 0.0f));
  CHECK(same(pow(-2.0f, kInf), kInf));
  CHECK(same(pow(-kInf, -3.0f), -0.0f));
  CHECK(same(pow(-kInf, -2.0f), 0.0f));
  CHECK(same(pow(-kInf, 3.0f), -kInf));
  CHECK(same(pow(-kInf, 0.5f), kInf));
  CHECK(same(pow(kInf, -1.0f), 0.0f));
  CHECK(same(pow(kInf, 0.5f), kInf));
  CHECK(same(pow(-2.0f, 3.0f), -8.0f));
  CHECK(same(pow(-2.0f, 16777216.0f), kInf));  // 2^24 is even
  CHECK(same(pow(2.0f, 128.0f), kInf));
  CHECK(same(pow(2.0f, -149.0f), std::ldexp(1.0f, -149)));
  CHECK(same(pow(2.0f, -150.0f), 0.0f));  // a tie, to even
  CHECK(same(pow(3.0f, 2.0f), 9.0f));
  CHECK(same(pow(10.0f, 10.0f), 1e10f));
}

TEST_CASE("math builtins: fmod is exact, with Annex F's special values") {
  auto fmod = [](float x, float y) { return wide(Builtin::Fmod, x, y); };
  CHECK(same(fmod(0.0f, 3.0f), 0.0f));
  CHECK(same(fmod(-0.0f, 3.0f), -0.0f));
  CHECK(same(fmod(5.0f, kInf), 5.0f));
  CHECK(same(fmod(-5.0f, -kInf), -5.0f));
  for (auto [x, y] : std::vector<std::pair<float, float>>{{kInf, 2.0f}, {-kInf, 2.0f}, {1.0f, 0.0f}, {1.0f, -0.0f},
                                                          {kNaN, 1.0f}, {1.0f, kNaN}, {0.0f, 0.0f}})
    CHECK(std::isnan(fmod(x, y)));
  CHECK(same(fmod(-6.0f, 3.0f), -0.0f));
  CHECK(same(fmod(7.5f, -2.0f), 1.5f));
  CHECK(same(fmod(std::numeric_limits<float>::max(), std::ldexp(1.0f, -149)), 0.0f));
  CHECK(same(fmod(std::numeric_limits<float>::max(), 3.0f), std::fmod(std::numeric_limits<float>::max(), 3.0f)));
  CHECK(same(fmod(std::numeric_limits<float>::max(), 1e-38f), std::fmod(std::numeric_limits<float>::max(), 1e-38f)));
  CHECK(same(fmod(1e-38f, std::ldexp(3.0f, -149)), std::fmod(1e-38f, std::ldexp(3.0f, -149))));
}

TEST_CASE("math builtins: sweeps against long double libm within 1 ulp (fmod exact)") {
  const int n = 100000;
  auto anyFloat = [](std::mt19937& rng, int) { return std::pair<float, float>{randomBits(rng), randomBits(rng)}; };
  auto moderate = [](std::mt19937& rng, int i) {
    // Dense where the functions change: |x| up to 2^(i % 24 - 4).
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    return std::pair<float, float>{std::ldexp(u(rng), i % 24 - 4), 0.0f};
  };
  for (Builtin b : {Builtin::Sin, Builtin::Cos, Builtin::Erf, Builtin::Sigmoid}) {
    CAPTURE(ir::name(b));
    CHECK(sweep(b, n, 1, anyFloat) <= 1);
    CHECK(sweep(b, n, 2, moderate) <= 1);
  }
  // pow: any bits (mostly 0, 1 or inf results), bases near 1 with large exponents,
  // negative bases with integral exponents, results near the float32 range's ends.
  CHECK(sweep(Builtin::Pow, n, 3, anyFloat) <= 1);
  CHECK(sweep(Builtin::Pow, n, 4, [](std::mt19937& rng, int i) {
          std::uniform_real_distribution<float> u(0.5f, 2.0f), e(-200.0f, 200.0f);
          float x = u(rng), y = e(rng);
          if (i % 2) y = std::nearbyint(y), x = -x;
          if (i % 3 == 0) x = 1 + std::ldexp(u(rng) - 1.25f, -10), y = std::ldexp(e(rng), 10);
          return std::pair<float, float>{x, y};
        }) <= 1);
  CHECK(sweep(Builtin::Fmod, n, 5, anyFloat) == 0);
  CHECK(sweep(Builtin::Fmod, n, 6, [](std::mt19937& rng, int) {
          std::uniform_real_distribution<float> u(-100.0f, 100.0f);
          return std::pair<float, float>{u(rng), u(rng) / 7};
        }) == 0);
}
