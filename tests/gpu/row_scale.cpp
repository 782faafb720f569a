// row_scale: the row-broadcast pattern on ragged shapes (tests/gpu/kernels/row_broadcast.tl,
// issue 17): a vector read per element inside a Parallel loop, whose last block
// reads past the vector's end unless GuardGlobalAccesses guards the read.
//
//   row_scale        Y = fp16(fp32(X) * S[row] * alpha)   S: M floats
//   bias_add         Y = X + B[column] (a fragment)       B: N floats
//   col_scale        Y = X * C[column] (a fragment)       C: N floats; aligned: proven
//   bias_add_global  Y = X + B[column] (global directly)
//
// Shapes: M and N of 1, 17, primes and multiples of the tiles. Every output is
// poisoned first and compared element by element, bit-exact, with the CPU (one
// rounding per operation, inputs chosen so that no result is subnormal); the guard
// zones of every buffer (inputs too: the vectors) must be intact. Pointers 8 bytes
// off 16-byte alignment must run the general variant, aligned ones with N a multiple
// of the vector width the aligned variant (expectVariant).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "row_scale.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Round to nearest even; the results here are normal halves (no overflow, no subnormals).
uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  int exponent = int((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if ((x & 0x7fffffff) == 0) return uint16_t(sign);
  if (exponent <= 0 || exponent >= 31) return uint16_t(sign | 0x7c00);  // not produced by this test
  uint32_t half = (uint32_t(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return uint16_t(sign | half);
}

// Magnitudes in [0.5, 2), either sign: products of two or three stay normal halves.
void fillHalves(std::vector<uint16_t>& v, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (uint16_t& h : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    h = uint16_t(((x & 1) << 15) | ((14 + (x >> 1) % 2) << 10) | ((x >> 8) & 0x3ff));
  }
}
void fillFloats(std::vector<float>& v, uint64_t seed) {
  std::vector<uint16_t> h(v.size());
  fillHalves(h, seed);
  for (size_t i = 0; i < v.size(); ++i) v[i] = halfToFloat(h[i]) * (1.0f + float(i % 7) / 1024.0f);
}

std::string shapeOf(int M, int N, size_t offset) {
  return std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "");
}

// `wantAligned`: 1 the aligned variant must run, 0 the general one, -1 either.
void testRowScale(int M, int N, size_t offset, int wantAligned) {
  Gpu& g = gpu();
  Checker check;
  const float alpha = 0.75f;
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems), y(elems);
  std::vector<float> s(M);
  fillHalves(x, 31u + M * 7u + N);
  fillFloats(s, 37u + M);
  DeviceBuffer dx(elems * 2, offset), ds(size_t(M) * 4, offset), dy(elems * 2, offset);
  dx.upload(x.data());
  ds.upload(s.data());
  dy.poison();
  const std::string shape = shapeOf(M, N, offset) + " fp16, S fp32";
  const char* entry = row_scale_variant_entry(row_scale_select_variant(dx.ptr(), ds.ptr(), dy.ptr(), M, N, alpha));
  if (wantAligned >= 0) expectVariant(entry, wantAligned ? "row_scale_aligned" : "row_scale", shape, check);
  if (launchAndWait(row_scale_launch(dx.ptr(), ds.ptr(), dy.ptr(), M, N, alpha, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t k = size_t(i) * N + j;
        check.addBits(k, y[k], floatToHalf(halfToFloat(x[k]) * s[i] * alpha));
      }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact() || !ds.guardsIntact()) check.fail("wrote outside an input");
  }
  Result r = untimedResult("row_scale", shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

using ColumnLaunch = CUresult (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using ColumnSelect = int (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t);
using ColumnEntry = const char* (*)(int);

struct ColumnKernel {
  const char* name;
  ColumnLaunch launch;
  ColumnSelect select;
  ColumnEntry entry;
  bool add;  // Y = X + V[j], else Y = X * V[j]
};

void testColumnVector(const ColumnKernel& kernel, int M, int N, size_t offset, int wantAligned) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems), v(N), y(elems);
  fillFloats(x, 41u + M * 3u + N);
  fillFloats(v, 43u + N);
  DeviceBuffer dx(elems * 4, offset), dv(size_t(N) * 4, offset), dy(elems * 4, offset);
  dx.upload(x.data());
  dv.upload(v.data());
  dy.poison();
  const std::string shape = shapeOf(M, N, offset) + " fp32";
  const char* entry = kernel.entry(kernel.select(dx.ptr(), dv.ptr(), dy.ptr(), M, N));
  if (wantAligned >= 0)
    expectVariant(entry, wantAligned ? (std::string(kernel.name) + "_aligned").c_str() : kernel.name, shape, check);
  if (launchAndWait(kernel.launch(dx.ptr(), dv.ptr(), dy.ptr(), M, N, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t k = size_t(i) * N + j;
        float want = kernel.add ? x[k] + v[j] : x[k] * v[j];
        uint32_t got32, want32;
        std::memcpy(&got32, &y[k], 4);
        std::memcpy(&want32, &want, 4);
        check.addBits(k, got32, want32);
      }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact() || !dv.guardsIntact()) check.fail("wrote outside an input");
  }
  Result r = untimedResult(kernel.name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# row_scale (row-broadcast reads, ragged shapes) on %s\n", gpu().name.c_str());
  // M: 1, 17, primes, a multiple of the 16-row tile; N: 1, primes, multiples of 8 and 128.
  const int rows[] = {1, 17, 31, 16, 1009};
  const int cols[] = {1, 7, 131, 136, 256};
  for (int M : rows)
    for (int N : cols) {
      testRowScale(M, N, 0, N % 8 == 0 ? 1 : 0);  // aligned pointers: N % 8 decides
      testRowScale(M, N, 8, 0);                    // 8 bytes off 16: the general variant
    }
  const ColumnKernel kernels[] = {
      {"bias_add", bias_add_launch, bias_add_select_variant, bias_add_variant_entry, true},
      {"col_scale", col_scale_launch, col_scale_select_variant, col_scale_variant_entry, false},
  };
  for (const ColumnKernel& k : kernels)
    for (int M : rows)
      for (int N : cols) {
        testColumnVector(k, M, N, 0, N % 4 == 0 ? 1 : 0);  // float32: N % 4 decides
        testColumnVector(k, M, N, 8, 0);
      }
  // No copies, no variants: the global accesses themselves are all guarded.
  const ColumnKernel direct = {"bias_add_global", bias_add_global_launch, bias_add_global_select_variant,
                               bias_add_global_variant_entry, true};
  for (int M : rows)
    for (int N : cols) testColumnVector(direct, M, N, 0, -1);
  return finish();
}
