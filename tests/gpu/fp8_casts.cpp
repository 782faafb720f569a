// fp8_casts: float8 conversions (tests/gpu/kernels/fp8_casts.tl) against a host
// reference written from the formats' definitions (not from the device's cvt):
//  - decode: every one of the 256 codes of float8_e4m3 (widened to float32) and of
//    float8_e5m2 (to float16), then random codes; each result compared bit-exactly
//    (signed zeros included), NaN codes must give a NaN;
//  - encode: float32 (and float16 through a shared tile) to both formats: random
//    values over the whole range plus every rounding tie, the saturation edges,
//    +-0, +-Inf, NaN and subnormals; the reference picks the nearest code, ties to
//    the even code, magnitudes beyond the largest finite one (and Inf) saturate to it,
//    NaN must give a NaN code. Outputs are poisoned first; N is ragged.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "fp8_casts.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

enum class Fp8 { E4M3, E5M2 };

bool isNanCode(Fp8 f, uint8_t c) {
  return f == Fp8::E4M3 ? (c & 0x7F) == 0x7F : ((c >> 2) & 31) == 31 && (c & 3) != 0;
}

// The value of a code (NaN for NaN codes, +-Inf for e5m2's infinities).
float decode(Fp8 f, uint8_t c) {
  if (isNanCode(f, c)) return NAN;
  int sign = c >> 7;
  float v;
  if (f == Fp8::E4M3) {
    int e = (c >> 3) & 15, m = c & 7;
    v = e == 0 ? std::ldexp((float)m, -9) : std::ldexp(1.0f + m / 8.0f, e - 7);
  } else {
    int e = (c >> 2) & 31, m = c & 3;
    if (e == 31) v = INFINITY;
    else v = e == 0 ? std::ldexp((float)m, -16) : std::ldexp(1.0f + m / 4.0f, e - 15);
  }
  return sign ? -v : v;
}

// Nearest finite code by exhaustive search, ties to the even code; saturating.
uint8_t encode(Fp8 f, float x) {
  if (std::isnan(x)) return 0x7F;  // any NaN code is accepted (see check below)
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  double a = std::fabs((double)x);
  const uint8_t maxCode = f == Fp8::E4M3 ? 0x7E : 0x7B;  // 448, 57344
  if (a >= decode(f, maxCode)) return (uint8_t)(maxCode | sign);  // saturate (Inf too)
  int best = 0;
  double bestErr = INFINITY;
  for (int c = 0; c < 0x80; ++c) {
    float v = decode(f, (uint8_t)c);
    if (std::isnan(v) || std::isinf(v)) continue;
    double err = std::fabs((double)v - a);
    if (err < bestErr || (err == bestErr && (c & 1) == 0)) best = c, bestErr = err;
  }
  return (uint8_t)(best | sign);
}

void checkCodes(Checker& check, Fp8 f, const std::vector<float>& in, const std::vector<uint8_t>& got) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (std::isnan(in[i])) {
      if (!isNanCode(f, got[i])) check.addBits(i, (int)got[i], 0x7F);
      else check.addBits(i, 0, 0);
    } else {
      check.addBits(i, (int)got[i], (int)encode(f, in[i]));
    }
  }
}

void checkValue(Checker& check, size_t i, float got, float want) {
  if (std::isnan(want) || std::isnan(got)) {
    check.addBits(i, (int)std::isnan(got), (int)std::isnan(want));
    return;
  }
  uint32_t g, w;
  std::memcpy(&g, &got, 4);
  std::memcpy(&w, &want, 4);
  check.addBits(i, g, w);
}

float halfBitsToFloat(uint16_t h) {
  uint32_t e = (h >> 10) & 31, m = h & 1023;
  float v = e == 0 ? std::ldexp((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp((float)(m | 1024), (int)e - 25);
  return (h >> 15) ? -v : v;
}

uint16_t floatToHalfBits(float x) {  // exact for the values used here (all are halves)
  if (std::isnan(x)) return 0x7E00;
  uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  float a = std::fabs(x);
  if (std::isinf(a)) return sign | 0x7C00;
  if (a == 0) return sign;
  int e;
  float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  if (e - 1 < -14) return sign | (uint16_t)std::lround(std::ldexp(a, 24));
  return sign | (uint16_t)(((e - 1 + 15) << 10) | (std::lround(std::ldexp(m, 11)) - 1024));
}

void testDecode(int N) {
  Gpu& g = gpu();
  Checker check;
  std::vector<uint8_t> e(N), f(N);
  Random r(991u + N);
  for (int i = 0; i < N; ++i) {
    e[i] = i < 256 ? (uint8_t)i : (uint8_t)r.next();
    f[i] = i < 256 ? (uint8_t)(255 - i) : (uint8_t)r.next();
  }
  DeviceBuffer de(N), df(N), dx(size_t(N) * 4), dy(size_t(N) * 2);
  de.upload(e.data());
  df.upload(f.data());
  dx.poison();
  dy.poison();
  if (launchAndWait(fp8_decode_launch(de.ptr(), df.ptr(), dx.ptr(), dy.ptr(), N, g.stream), check)) {
    std::vector<float> x(N);
    std::vector<uint16_t> y(N);
    dx.download(x.data());
    dy.download(y.data());
    for (int i = 0; i < N; ++i) checkValue(check, i, x[i], decode(Fp8::E4M3, e[i]));
    for (int i = 0; i < N; ++i) checkValue(check, N + i, halfBitsToFloat(y[i]), decode(Fp8::E5M2, f[i]));
  }
  report(untimedResult("fp8_decode", shapeString({N}, "fp8->fp32/fp16"), check.passed(), "all 256 codes + random"));
}

std::vector<float> encodeInputs(int N, bool halves) {
  std::vector<float> x(N);
  Random r(7u * N + (halves ? 1 : 0));
  for (int i = 0; i < N; ++i) {
    // Random magnitudes over 2^-20 .. 2^20 and both signs.
    float m = 1.0f + (r.next() % 1000000) / 1000000.0f;
    int e = (int)(r.next() % 41) - 20;
    x[i] = std::ldexp(m, e) * ((r.next() & 1) ? -1.0f : 1.0f);
  }
  std::vector<float> special = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 448.0f, 464.0f, 480.0f, 500.0f, -480.0f,
                                57344.0f, 61440.0f, 65504.0f, -61440.0f, 1e30f, -1e30f};
  // Every tie of both formats: midpoints between neighbouring finite codes.
  for (Fp8 f : {Fp8::E4M3, Fp8::E5M2})
    for (int c = 0; c + 1 < 0x80; ++c) {
      float a = decode(f, (uint8_t)c), b = decode(f, (uint8_t)(c + 1));
      if (std::isnan(b) || std::isinf(b)) break;
      float mid = (a + b) / 2;
      special.push_back(mid);
      special.push_back(-mid);
      special.push_back(std::nextafter(mid, 0.0f));
      special.push_back(std::nextafter(mid, INFINITY));
    }
  for (size_t i = 0; i < special.size() && i < (size_t)N; ++i) x[i] = special[i];
  if (halves)  // representable as float16 (the kernel reads halves)
    for (float& v : x) v = halfBitsToFloat(floatToHalfBits(std::isnan(v) ? v : std::fmax(std::fmin(v, 65504.0f), -65504.0f)));
  return x;
}

void testEncode(int N, bool halves) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> x = encodeInputs(N, halves);
  DeviceBuffer din(size_t(N) * (halves ? 2 : 4)), de(N), df(N);
  if (halves) {
    std::vector<uint16_t> h(N);
    for (int i = 0; i < N; ++i) h[i] = floatToHalfBits(x[i]);
    for (int i = 0; i < N; ++i)  // the conversion above must be exact
      if (!std::isnan(x[i]) && halfBitsToFloat(h[i]) != x[i]) check.fail("test bug: input not a half");
    din.upload(h.data());
  } else {
    din.upload(x.data());
  }
  de.poison();
  df.poison();
  CUresult status = halves ? fp8_encode_half_launch(din.ptr(), de.ptr(), df.ptr(), N, g.stream)
                           : fp8_encode_launch(din.ptr(), de.ptr(), df.ptr(), N, g.stream);
  if (launchAndWait(status, check)) {
    std::vector<uint8_t> e(N), f(N);
    de.download(e.data());
    df.download(f.data());
    checkCodes(check, Fp8::E4M3, x, e);
    checkCodes(check, Fp8::E5M2, x, f);
  }
  report(untimedResult(halves ? "fp8_encode_half" : "fp8_encode", shapeString({N}, halves ? "fp16->fp8" : "fp32->fp8"),
                       check.passed(), "ties, saturation, specials + random"));
}

}  // namespace

// The host reference on known values (a failure here is a test bug, not tlc's).
void testReference() {
  Checker check;
  checkValue(check, 0, decode(Fp8::E4M3, 0x7E), 448.0f);
  checkValue(check, 1, decode(Fp8::E4M3, 0x01), std::ldexp(1.0f, -9));
  checkValue(check, 2, decode(Fp8::E4M3, 0x38), 1.0f);
  checkValue(check, 3, decode(Fp8::E5M2, 0x7B), 57344.0f);
  checkValue(check, 4, decode(Fp8::E5M2, 0x3C), 1.0f);
  checkValue(check, 5, decode(Fp8::E5M2, 0x01), std::ldexp(1.0f, -16));
  check.addBits(6, (int)encode(Fp8::E4M3, 1e9f), 0x7E);
  check.addBits(7, (int)encode(Fp8::E4M3, -INFINITY), 0xFE);
  check.addBits(8, (int)encode(Fp8::E4M3, 1.0625f), 0x38);  // a tie: to the even code 1.0
  check.addBits(9, (int)encode(Fp8::E4M3, 1.1875f), 0x3A);  // a tie: to the even code 1.25
  check.addBits(10, (int)encode(Fp8::E5M2, -0.0f), 0x80);
  check.addBits(11, (int)encode(Fp8::E5M2, INFINITY), 0x7B);
  check.addBits(12, (int)encode(Fp8::E5M2, -1e30f), 0xFB);
  for (int c = 0; c < 256; ++c)
    if (!isNanCode(Fp8::E4M3, (uint8_t)c)) check.addBits(13 + c, (int)encode(Fp8::E4M3, decode(Fp8::E4M3, (uint8_t)c)), c);
  report(untimedResult("fp8_reference", "host", check.passed(), "reference self-check"));
}

int main() {
  testReference();
  for (int N : {1000, 4099, 65537}) {
    testDecode(N);
    testEncode(N, false);
    testEncode(N, true);
  }
  return finish();
}
