// e8m0_fp4_casts: float8_e8m0fnu conversions and float4_e2m1fn converting copies on
// the GPU (tests/gpu/kernels/e8m0_fp4_casts.tl), bit-exact against the host formats
// (src/ir/Float8E8M0.h, src/ir/Float4.h) that the interpreter is held to.
//
//   e8m0_decode   every code (N = 1000: each code about four times, a ragged block)
//                 to float32, float16 and bfloat16
//   e8m0_encode   tests/e8m0_reference.h's inputs from float32, float64 (each input
//                 times 1 + 2^-40: between float32 values) and int32
//   fp4_to_half, fp4_to_bf16 (through a shared tile), fp4_to_float (global to
//                 global): every byte pattern, ragged M x N (1 x 2, 17 x 130, ...),
//                 and 8 bytes off 16-byte alignment
// Every output is poisoned first; guards must be intact.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../../src/ir/Float4.h"
#include "../../src/ir/Float8E8M0.h"
#include "../e8m0_reference.h"
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "e8m0_fp4_casts.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// float32 -> float16 / bfloat16 bits, round to nearest even (what cvt.rn does); the
// values here are powers of two, NaN or fp4 values.
uint16_t toHalfBits(float f) {
  uint32_t x = bitsOf(f);
  uint32_t sign = (x >> 16) & 0x8000;
  if (std::isnan(f)) return 0x7FFF;
  float a = std::fabs(f);
  if (a >= 65520.0f) return uint16_t(sign | 0x7C00);
  if (a < std::ldexp(1.0f, -14)) {  // subnormal half: a multiple of 2^-24, ties to even
    float q = std::nearbyint(a * std::ldexp(1.0f, 24));
    return uint16_t(sign | uint32_t(q));
  }
  int e;
  float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  uint32_t mant = uint32_t(std::nearbyint((m * 2.0f - 1.0f) * 1024.0f));
  uint32_t exp = uint32_t(e - 1 + 15);
  if (mant == 1024) mant = 0, ++exp;
  return uint16_t(sign | (exp << 10) | mant);
}
uint16_t toBf16Bits(float f) {
  if (std::isnan(f)) return 0x7FFF;
  uint32_t x = bitsOf(f);
  uint32_t rest = x & 0xFFFF, keep = x >> 16;
  if (rest > 0x8000 || (rest == 0x8000 && (keep & 1))) ++keep;
  return uint16_t(keep);
}
bool halfIsNaN(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF); }
bool bf16IsNaN(uint16_t h) { return (h & 0x7F80) == 0x7F80 && (h & 0x7F); }

void testDecode() {
  Gpu& g = gpu();
  Checker check;
  const int n = 1000;
  std::vector<uint8_t> e(n);
  for (int i = 0; i < n; ++i) e[size_t(i)] = uint8_t(i % 256);
  DeviceBuffer de(n), df(size_t(n) * 4), dh(size_t(n) * 2), db(size_t(n) * 2);
  de.upload(e.data());
  for (auto* b : {&df, &dh, &db}) b->poison();
  if (launchAndWait(e8m0_decode_launch(de.ptr(), df.ptr(), dh.ptr(), db.ptr(), n, g.stream), check)) {
    std::vector<float> f(n);
    std::vector<uint16_t> h(n), b(n);
    df.download(f.data());
    dh.download(h.data());
    db.download(b.data());
    for (int i = 0; i < n; ++i) {
      float want = tlc::e8m0::toFloat(e[size_t(i)]);
      if (std::isnan(want)) {
        check.addBits(size_t(i), uint32_t(std::isnan(f[size_t(i)]) && halfIsNaN(h[size_t(i)]) && bf16IsNaN(b[size_t(i)])), 1u);
        continue;
      }
      check.addBits(size_t(i), bitsOf(f[size_t(i)]), bitsOf(want));
      check.addBits(size_t(i), h[size_t(i)], toHalfBits(want));
      check.addBits(size_t(i), b[size_t(i)], toBf16Bits(want));
    }
    if (!df.guardsIntact() || !dh.guardsIntact() || !db.guardsIntact()) check.fail("wrote outside an output");
  }
  Result r = untimedResult("e8m0_decode", "256 codes x4, N=1000", check.passed(), "e8m0_decode");
  report(r);
}

void testEncode() {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> x = e8m0_reference::floatInputs();
  const int n = int(x.size());
  std::vector<double> d(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) d[size_t(i)] = double(x[size_t(i)]) * (1.0 + 0x1p-40);
  std::vector<int32_t> k = e8m0_reference::intInputs(size_t(n));
  DeviceBuffer dx(size_t(n) * 4), dd(size_t(n) * 8), dk(size_t(n) * 4), dq(n), drr(n), ds(n);
  dx.upload(x.data());
  dd.upload(d.data());
  dk.upload(k.data());
  for (auto* b : {&dq, &drr, &ds}) b->poison();
  if (launchAndWait(e8m0_encode_launch(dx.ptr(), dd.ptr(), dk.ptr(), dq.ptr(), drr.ptr(), ds.ptr(), n, g.stream),
                    check)) {
    std::vector<uint8_t> q(n), rr(n), s(n);
    dq.download(q.data());
    drr.download(rr.data());
    ds.download(s.data());
    for (int i = 0; i < n; ++i) {
      check.addBits(size_t(i), q[size_t(i)], tlc::e8m0::fromDouble(x[size_t(i)]));
      check.addBits(size_t(i), rr[size_t(i)], tlc::e8m0::fromDouble(d[size_t(i)]));
      check.addBits(size_t(i), s[size_t(i)], tlc::e8m0::fromDouble(double(k[size_t(i)])));
    }
    if (!dq.guardsIntact() || !drr.guardsIntact() || !ds.guardsIntact()) check.fail("wrote outside an output");
  }
  Result r = untimedResult("e8m0_encode", std::to_string(n) + " inputs (f32, f64, i32)", check.passed(), "e8m0_encode");
  report(r);
}

using Launch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using Select = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);
using Entry = const char* (*)(int);

struct Convert {
  const char* name;
  Launch launch;
  Select select;
  Entry entry;
  int outBytes;  // 2: float16 / bfloat16 (bf16 when bf16), 4: float32
  bool bf16;
};

void testConvert(const Convert& c, int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<uint8_t> a(elems / 2);
  uint32_t x = 0x9E3779B9u + uint32_t(M * 131 + N);
  for (size_t i = 0; i < a.size(); ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    a[i] = i < 256 ? uint8_t(i) : uint8_t(x);  // every byte pattern first
  }
  DeviceBuffer da(a.size(), offset), dy(elems * size_t(c.outBytes), offset);
  da.upload(a.data());
  dy.poison();
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "");
  const char* entry = c.entry(c.select(da.ptr(), dy.ptr(), M, N));
  if (launchAndWait(c.launch(da.ptr(), dy.ptr(), M, N, g.stream), check)) {
    std::vector<uint8_t> y(elems * size_t(c.outBytes));
    dy.download(y.data());
    for (size_t i = 0; i < elems; ++i) {
      float want = tlc::fp4::toFloat(tlc::fp4::element(a.data(), int64_t(i)));
      if (c.outBytes == 4) {
        uint32_t got;
        std::memcpy(&got, &y[i * 4], 4);
        check.addBits(i, got, bitsOf(want));
      } else {
        uint16_t got;
        std::memcpy(&got, &y[i * 2], 2);
        check.addBits(i, got, c.bf16 ? toBf16Bits(want) : toHalfBits(want));
      }
    }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!da.guardsIntact()) check.fail("wrote outside A");
  }
  report(untimedResult(c.name, shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  std::printf("# e8m0_fp4_casts (float8_e8m0fnu conversions, fp4 converting copies) on %s\n", gpu().name.c_str());
  testDecode();
  testEncode();
  const Convert converts[] = {
      {"fp4_to_half", fp4_to_half_launch, fp4_to_half_select_variant, fp4_to_half_variant_entry, 2, false},
      {"fp4_to_bf16", fp4_to_bf16_launch, fp4_to_bf16_select_variant, fp4_to_bf16_variant_entry, 2, true},
      {"fp4_to_float", fp4_to_float_launch, fp4_to_float_select_variant, fp4_to_float_variant_entry, 4, false},
  };
  const int shapes[][2] = {{1, 2}, {17, 130}, {33, 64}, {5, 258}, {64, 512}, {1009, 62}};
  for (const Convert& c : converts)
    for (auto& s : shapes) {
      testConvert(c, s[0], s[1], 0);
      testConvert(c, s[0], s[1], 8);
    }
  return finish();
}
