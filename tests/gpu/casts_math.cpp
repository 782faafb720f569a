// casts_math: scalar casts and float32 math on the device (tests/gpu/kernels/casts_math.tl)
// against the host reference of tests/casts_math_reference.h, with the ULP bounds the
// interpreter's unit test (tests/unit/test_casts_math.cpp) holds the CPU to:
//  - casts: float32 and int64 inputs (edge values: float16 / bfloat16 ties,
//    subnormals, +-0, +-Inf, NaN, every integer width's saturation edges, int64 values
//    a double rounding would get wrong; then random) cast to each of the 13 numeric
//    dtypes and from there to float32 and int64; compared bit-exactly;
//  - math: exp exp2 log log2 sqrt rsqrt tanh abs, division, pow, min, max, x ** 2.0,
//    sin cos erf sigmoid pow() fmod floor ceil trunc round nearbyint isnan isinf
//    isfinite clamp, the fast __exp __exp2 __exp10 __log __log2 __log10 __sin __cos
//    __tan, sin on float16 and pow on bfloat16, each within its stated bound; sin
//    cos erf sigmoid pow fmod also bit for bit equal to the host's run of the same
//    algorithm (what the interpreter computes).
// Outputs are poisoned first; N is ragged.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../casts_math_reference.h"
#include "../../src/ir/MathAlgorithms.h"
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "casts_math.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Rows 13..18 as the interpreter computes them (interp::wideMathFloat32).
float hostWide(int row, float x, float y) {
  tlc::math::HostArith a;
  switch (row) {
    case 13: return float(tlc::math::sinCosWide(a, double(x), false));
    case 14: return float(tlc::math::sinCosWide(a, double(x), true));
    case 15: return float(tlc::math::erfWide(a, double(x)));
    case 16: return float(tlc::math::sigmoidWide(a, double(x)));
    case 17: return float(tlc::math::powWide(a, double(x), double(y)));
    default: return float(tlc::math::fmodWide(a, double(x), double(y)));
  }
}

void testCasts(int N) {
  Gpu& g = gpu();
  Checker check;
  casts_math::Inputs in = casts_math::makeInputs(N, 2025u + N);
  const size_t rows = casts_math::kCastRows;
  DeviceBuffer dx(size_t(N) * 4), dk(size_t(N) * 8), df(rows * N * 4), dl(rows * N * 8);
  dx.upload(in.x.data());
  dk.upload(in.k.data());
  df.poison();
  dl.poison();
  if (launchAndWait(casts_launch(dx.ptr(), dk.ptr(), df.ptr(), dl.ptr(), N, g.stream), check)) {
    std::vector<float> f(rows * N);
    std::vector<int64_t> l(rows * N);
    df.download(f.data());
    dl.download(l.data());
    for (size_t row = 0; row < rows; ++row)
      for (int i = 0; i < N; ++i) {
        float wantF;
        int64_t wantL;
        casts_math::castRow(int(row), in.x[i], in.k[i], wantF, wantL);
        size_t at = row * N + i;
        uint32_t gotBits, wantBits;
        std::memcpy(&gotBits, &f[at], 4);
        std::memcpy(&wantBits, &wantF, 4);
        if (std::isnan(wantF) && std::isnan(f[at])) gotBits = wantBits;  // any NaN
        check.addBits(at, gotBits, wantBits);
        check.addBits(rows * N + at, l[at], wantL);
      }
  }
  report(untimedResult("casts", shapeString({N}, "fp32/int64 -> 13 dtypes -> fp32/int64"), check.passed(),
                       "exact; edges + random"));
}

void testMath(int N) {
  Gpu& g = gpu();
  Checker check;
  casts_math::Inputs in = casts_math::makeInputs(N, 7u + N);
  const size_t rows = casts_math::kMathRows;
  DeviceBuffer dx(size_t(N) * 4), dy(size_t(N) * 4), dp(size_t(N) * 4), dm(rows * N * 4);
  dx.upload(in.x.data());
  dy.upload(in.y.data());
  dp.upload(in.p.data());
  dm.poison();
  if (launchAndWait(math_launch(dx.ptr(), dy.ptr(), dp.ptr(), dm.ptr(), N, g.stream), check)) {
    std::vector<float> m(rows * N);
    dm.download(m.data());
    for (size_t row = 0; row < rows; ++row)
      for (int i = 0; i < N; ++i) {
        if (!casts_math::mathChecked(int(row), in.x[i], in.y[i], in.p[i])) continue;
        float want = casts_math::mathRow(int(row), in.x[i], in.y[i], in.p[i]);
        float got = m[row * N + i];
        if (!casts_math::mathWithinBound(int(row), in.x[i], in.y[i], in.p[i], got, want)) {
          std::fprintf(stderr, "    %s(x=%.9g, y=%.9g, p=%.9g): got %.9g, want %.9g\n", casts_math::mathRows()[row].name,
                       in.x[i], in.y[i], in.p[i], m[row * N + i], want);
          check.fail("beyond the ULP bound");
        }
        // sin cos erf sigmoid pow fmod: the same bits as the interpreter's run of
        // the same algorithm (ir/MathAlgorithms.h on the host).
        if (row >= 13 && row <= 18) {
          float host = hostWide(int(row), in.x[i], in.y[i]);
          uint32_t gotBits, hostBits;
          std::memcpy(&gotBits, &got, 4);
          std::memcpy(&hostBits, &host, 4);
          if (std::isnan(got) && std::isnan(host)) gotBits = hostBits;
          if (gotBits != hostBits) {
            std::fprintf(stderr, "    %s(x=%.9g, y=%.9g): GPU %a, host algorithm %a\n", casts_math::mathRows()[row].name,
                         in.x[i], in.y[i], got, host);
            check.fail("not the host algorithm's bits");
          }
        }
      }
  }
  report(untimedResult("math", shapeString({N}, "fp32"), check.passed(), "ULP bounds of casts_math_reference.h"));
}

}  // namespace

// The host reference on known values (a failure here is a test bug, not tlc's).
void testReference() {
  Checker check;
  float f;
  int64_t l;
  casts_math::castRow(9, 1 + std::ldexp(1.0f, -11), 0, f, l);  // fp32 -> fp16: tie to even
  check.addBits(0, f == 1.0f, true);
  casts_math::castRow(9, 1 + 3 * std::ldexp(1.0f, -11), 0, f, l);
  check.addBits(1, f == 1 + std::ldexp(1.0f, -9), true);
  casts_math::castRow(0, 0.5f, 0, f, l);  // bool: 1, not -1
  check.addBits(2, f == 1.0f && l == 1, true);
  casts_math::castRow(13 + 5, 0, 200, f, l);  // uint8 200 -> int64 200
  check.addBits(3, l, int64_t(200));
  casts_math::castRow(13 + 7, 0, 4000000000LL, f, l);  // uint32 4e9 -> int64
  check.addBits(4, l, int64_t(4000000000LL));
  casts_math::castRow(3, -1e10f, 0, f, l);  // float32 -> int32 saturates
  check.addBits(5, l, int64_t(INT32_MIN));
  casts_math::castRow(13 + 11, 0, (int64_t(1) << 62) + (int64_t(1) << 38) + 1, f, l);  // one rounding
  check.addBits(6, f == std::ldexp(1.0f, 62) + std::ldexp(1.0f, 39), true);
  report(untimedResult("casts_math_reference", "host", check.passed(), "reference self-check"));
}

int main() {
  testReference();
  for (int N : {1000, 4099, 65537}) {
    testCasts(N);
    testMath(N);
  }
  return finish();
}
