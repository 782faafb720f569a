// cumsum: TileLang's inclusive prefix sum along an axis (issue 21, item 1),
// tests/gpu/kernels/cumsum.tl, on ragged shapes against a float64 CPU reference:
//   frag_rows       float32 fragment (8, 32), along rows, in place
//   frag_cols_rev   float16 fragment (16, 24), down columns from the bottom, into another fragment
//   shared_rows_rev float32 shared (8, 40), along rows from the end, in place
//   shared_to_frag  int32 shared (12, 16), down columns, into a fragment
//   vector          float32 (100,) chunks of a vector
// Each (BM, BN) tile is scanned on its own; tile elements past the tensor's edge read
// 0. Inputs are multiples of 1/64 in [-4, 4) (int32: integers in [-1000, 1000]).
// Tolerances: float32 within 1e-5 relative to the scanned sum of |x|; float16 (a
// float32 sum rounded once) within 2^-10 relative plus 2^-14 absolute; int32 exact.
// Outputs poisoned first, guard zones checked; bases aligned and 8 bytes off 16
// (which must run the general variant where there is one).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cumsum.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

double halfBits(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double magnitude = exponent == 0 ? std::ldexp(double(mantissa), -24) : std::ldexp(double(mantissa | 0x400), exponent - 25);
  return h >> 15 ? -magnitude : magnitude;
}

// A multiple of 2^-6 below 4 in magnitude as float16 bits, exactly.
uint16_t halfOf(double v) {
  uint16_t h = v < 0 ? 0x8000 : 0;
  double a = std::fabs(v);
  if (a == 0) return h;
  int e;
  double m = std::frexp(a, &e);
  return uint16_t(h | ((e + 14) << 10) | (uint32_t(std::ldexp(m, 11)) & 0x3ff));
}

enum class Kind { F32, F16, I32 };

struct Kernel {
  const char* name;
  Kind kind;
  int bm, bn, dim;
  bool reverse;
  CUresult (*launch)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
  int (*select)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);
  const char* (*entry)(int);
};

void test(const Kernel& k, int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t eb = k.kind == Kind::F16 ? 2 : 4, elems = size_t(M) * N;
  Checker check(k.kind == Kind::F16 ? 1.0 / 16384 : 0, k.kind == Kind::F32 ? 1e-5 : k.kind == Kind::F16 ? 1.0 / 1024 : 0);
  std::vector<double> x(elems);
  std::vector<uint8_t> raw(elems * eb);
  Random rng(131u + uint64_t(M) * 7u + uint64_t(N));
  for (size_t e = 0; e < elems; ++e) {
    x[e] = k.kind == Kind::I32 ? double(int64_t(rng.next() % 2001) - 1000) : double(int64_t(rng.next() % 512) - 256) / 64.0;
    if (k.kind == Kind::F32) { float f = float(x[e]); std::memcpy(&raw[e * 4], &f, 4); }
    else if (k.kind == Kind::F16) { uint16_t h = halfOf(x[e]); std::memcpy(&raw[e * 2], &h, 2); }
    else { int32_t i = int32_t(x[e]); std::memcpy(&raw[e * 4], &i, 4); }
  }
  DeviceBuffer dx(raw.size(), offset), dy(raw.size(), offset);
  dx.upload(raw.data());
  dy.poison();
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "");
  const char* entry = k.entry(k.select(dx.ptr(), dy.ptr(), M, N));
  if (!entry) check.fail("no variant selected");
  if (launchAndWait(k.launch(dx.ptr(), dy.ptr(), M, N, g.stream), check)) {
    std::vector<uint8_t> y(raw.size());
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        int r0 = i / k.bm * k.bm, c0 = j / k.bn * k.bn;
        int n = k.dim == 0 ? k.bm : k.bn, at = k.dim == 0 ? i - r0 : j - c0;
        double sum = 0, scale = 0;
        for (int t = 0; t < n; ++t) {
          if (k.reverse ? t < at : t > at) continue;
          int ii = k.dim == 0 ? r0 + t : i, jj = k.dim == 0 ? j : c0 + t;
          double v = ii < M && jj < N ? x[size_t(ii) * N + jj] : 0.0;
          sum += v, scale += std::fabs(v);
        }
        size_t e = size_t(i) * N + j;
        double got;
        if (k.kind == Kind::F32) { float f; std::memcpy(&f, &y[e * 4], 4); got = f; }
        else if (k.kind == Kind::F16) { uint16_t h; std::memcpy(&h, &y[e * 2], 2); got = halfBits(h); }
        else { int32_t v; std::memcpy(&v, &y[e * 4], 4); got = v; }
        check.add(e, got, sum, k.kind == Kind::F32 ? scale : -1);
      }
    if (!dy.guardsIntact() || !dx.guardsIntact()) check.fail("wrote outside X or Y");
  }
  Result r = untimedResult(k.name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

// vector(X, Y, N): a (1, N) tensor scanned in chunks of 100.
CUresult vectorLaunch(CUdeviceptr x, CUdeviceptr y, int32_t, int32_t n, CUstream s) { return vector_launch(x, y, n, s); }
int vectorSelect(CUdeviceptr x, CUdeviceptr y, int32_t, int32_t n) { return vector_select_variant(x, y, n); }

}  // namespace

int main() {
  std::printf("# cumsum on %s\n", gpu().name.c_str());
  const Kernel kernels[] = {
      {"frag_rows", Kind::F32, 8, 32, 1, false, frag_rows_launch, frag_rows_select_variant, frag_rows_variant_entry},
      {"frag_cols_rev", Kind::F16, 16, 24, 0, true, frag_cols_rev_launch, frag_cols_rev_select_variant,
       frag_cols_rev_variant_entry},
      {"shared_rows_rev", Kind::F32, 8, 40, 1, true, shared_rows_rev_launch, shared_rows_rev_select_variant,
       shared_rows_rev_variant_entry},
      {"shared_to_frag", Kind::I32, 12, 16, 0, false, shared_to_frag_launch, shared_to_frag_select_variant,
       shared_to_frag_variant_entry},
      {"vector", Kind::F32, 1, 100, 1, false, vectorLaunch, vectorSelect, vector_variant_entry},
  };
  for (size_t offset : {size_t(0), size_t(8)})
    for (const Kernel& k : kernels) {
      if (k.bm == 1) {
        for (int N : {1, 7, 100, 101, 1031, 100003}) test(k, 1, N, offset);
        continue;
      }
      for (int M : {1, 17, k.bm, 2 * k.bm + 1, 1009})
        for (int N : {1, 7, k.bn, 2 * k.bn + 3, 1031}) test(k, M, N, offset);
    }
  return finish();
}
