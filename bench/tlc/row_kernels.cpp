// row_kernels.cpp: the row kernels of examples/ (issue 21 item 4), one per build
// (build_bench.sh passes -DROW_<KERNEL>):
//   ROW_SOFTMAX    softmax.tl    Y = softmax(X) per row              bytes 2MN + 2MN
//   ROW_RMSNORM    rmsnorm.tl    Y = X rsqrt(mean X^2 + 1e-6) W      2MN + 2N + 2MN
//   ROW_LAYERNORM  layernorm.tl  Y = (X - mean) rstd W + B           2MN + 4N + 2MN
//   ROW_FP8_QUANT  fp8_quant.tl  S = max(amax, 1e-4) / 448, Q = e4m3(X * (1 / S))  2MN + MN + 4M
//   ROW_COL_SUM    col_sum.tl    S = sum over rows (atomics)         2MN + 4N
//   ROW_BIAS_GELU  bias_gelu.tl  Y = gelu_tanh(X + B)                2MN + 2N + 2MN
// float16 X (M, N); bytes count each input read once and each output written once. The
// column sum's launch includes zeroing S (cuMemsetD32Async of N floats), as the Triton
// peer's does. Checks as tests/gpu/row_kernels.cpp: float16 outputs within 2^-10 |ref| +
// 2^-24, fp8 codes exact, sums within (2M + 2) 2^-24 sum |x|.
// Sizes: 16384 x 4096 (128 MiB of fp16 in) and 256 x 1024.
#include "bench.h"

#include TLC_KERNEL_HEADER

namespace {

using gpu_test::halfToFloat;

// Random float16 values of magnitude in [2^-6, 2): never NaN, never the poison.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed) {
  gpu_test::Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = uint16_t(((x & 1) << 15) | ((9 + (x >> 1) % 7) << 10) | ((x >> 8) & 0x3ff));
  }
}

[[maybe_unused]] double gelu(double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))); }

// The e4m3 code nearest to x (ties to even, saturating at 448).
[[maybe_unused]] uint8_t encodeE4m3(float x) {
  static const std::vector<double> values = [] {
    std::vector<double> v;
    for (int c = 0; c < 0x7F; ++c) {
      int e = (c >> 3) & 15, m = c & 7;
      v.push_back(e == 0 ? std::ldexp(double(m), -9) : std::ldexp(1.0 + m / 8.0, e - 7));
    }
    return v;
  }();
  const uint8_t sign = std::signbit(x) ? 0x80 : 0;
  const double a = std::fabs(double(x));
  if (a >= values.back()) return uint8_t(0x7E | sign);
  size_t hi = size_t(std::upper_bound(values.begin(), values.end(), a) - values.begin()), lo = hi - 1;
  const double dl = a - values[lo], dh = values[hi] - a;
  return uint8_t((dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi)) | sign);
}

void benchRow(int M, int N, const char* size) {
  bench::Gpu& g = bench::device();
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems), w(N), b(N);
  fillHalf(x, 31u * M + N);
  fillHalf(w, 37u + N);
  fillHalf(b, 41u + N);
  bench::Case k;
  k.row.what = BENCH_WHAT;
  k.row.shape = bench::dims({M, N}, "fp16");
  k.row.size = size;
  k.tolerance = bench::Checker(std::ldexp(1.0, -24), std::ldexp(1.0, -10));
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
#if defined(ROW_SOFTMAX) || defined(ROW_RMSNORM) || defined(ROW_LAYERNORM) || defined(ROW_BIAS_GELU)
  const size_t inBytes = elems * 2, outBytes = elems * 2;
  const int sets = bench::rotationSets(inBytes + outBytes);
  auto xs = bench::bufferSets(sets, inBytes), ys = bench::bufferSets(sets, outBytes);
  bench::DeviceBuffer dw(size_t(N) * 2), db(size_t(N) * 2);
  bench::fillSets(xs, x);
  dw.upload(w.data());
  db.upload(b.data());
  ys[0].poison();
  k.row.sets = sets;
  std::vector<uint16_t> y(elems);
#if defined(ROW_SOFTMAX)
  k.row.op = "softmax";
  k.row.bytes = double(inBytes + outBytes);
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), ys[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), ys[0].ptr(), M, N); };
#elif defined(ROW_RMSNORM)
  k.row.op = "rmsnorm";
  k.row.bytes = double(inBytes + outBytes + size_t(N) * 2);
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), dw.ptr(), ys[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), dw.ptr(), ys[0].ptr(), M, N); };
#elif defined(ROW_LAYERNORM)
  k.row.op = "layernorm";
  k.row.bytes = double(inBytes + outBytes + size_t(N) * 4);
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), dw.ptr(), db.ptr(), ys[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), dw.ptr(), db.ptr(), ys[0].ptr(), M, N); };
#else
  k.row.op = "bias+gelu";
  k.row.bytes = double(inBytes + outBytes + size_t(N) * 2);
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), db.ptr(), ys[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), db.ptr(), ys[0].ptr(), M, N); };
#endif
  k.verify = [&](bench::Checker& check) {
    ys[0].download(y.data());
    std::vector<double> row(N);
    for (int i = 0; i < M; ++i) {
      for (int j = 0; j < N; ++j) row[j] = halfToFloat(x[size_t(i) * N + j]);
      [[maybe_unused]] double a = 0, c = 0;  // softmax: max, sum; norms: mean (or sum of squares), variance
#if defined(ROW_SOFTMAX)
      a = -1e300;
      for (double v : row) a = std::max(a, v);
      for (double v : row) c += std::exp(v - a);
#elif defined(ROW_RMSNORM)
      for (double v : row) a += v * v;
      a = 1.0 / std::sqrt(a / N + 1e-6);
#elif defined(ROW_LAYERNORM)
      for (double v : row) a += v;
      a /= N;
      for (double v : row) c += (v - a) * (v - a);
      c = 1.0 / std::sqrt(c / N + 1e-5);
#endif
      for (int j = 0; j < N; ++j) {
        const size_t e = size_t(i) * N + j;
        const double got = halfToFloat(y[e]);
#if defined(ROW_SOFTMAX)
        check.add(e, got, std::exp(row[j] - a) / c);
#elif defined(ROW_RMSNORM)
        check.add(e, got, row[j] * a * halfToFloat(w[j]));
#elif defined(ROW_LAYERNORM)
        const double scaled = (row[j] - a) * c * halfToFloat(w[j]);
        check.add(e, got, scaled + halfToFloat(b[j]), std::fabs(scaled) + std::fabs(halfToFloat(b[j])));
#else
        const double v = row[j] + halfToFloat(b[j]);
        check.add(e, got, gelu(v), std::fabs(gelu(v)) + std::ldexp(std::fabs(v), -10));
#endif
      }
    }
    if (!ys[0].guardsIntact()) check.fail("wrote outside Y");
  };
  k.run();
#elif defined(ROW_FP8_QUANT)
  const size_t inBytes = elems * 2, outBytes = elems + size_t(M) * 4;
  const int sets = bench::rotationSets(inBytes + outBytes);
  auto xs = bench::bufferSets(sets, inBytes), qs = bench::bufferSets(sets, elems), ss = bench::bufferSets(sets, size_t(M) * 4);
  bench::fillSets(xs, x);
  qs[0].poison();
  ss[0].poison();
  k.row.op = "fp8 quant";
  k.row.bytes = double(inBytes + outBytes);
  k.row.sets = sets;
  k.tolerance = bench::Checker();
  k.launch = [&](int s) { return KERNEL_FN(launch)(xs[s].ptr(), qs[s].ptr(), ss[s].ptr(), M, N, g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), qs[0].ptr(), ss[0].ptr(), M, N); };
  std::vector<uint8_t> q(elems);
  std::vector<float> sc(M);
  k.verify = [&](bench::Checker& check) {
    qs[0].download(q.data());
    ss[0].download(sc.data());
    for (int i = 0; i < M; ++i) {
      double amax = 0;
      for (int j = 0; j < N; ++j) amax = std::max(amax, std::fabs(double(halfToFloat(x[size_t(i) * N + j]))));
      const float scale = float(std::max(amax, double(1e-4f)) / 448.0);
      uint32_t gotBits, wantBits;
      std::memcpy(&gotBits, &sc[i], 4);
      std::memcpy(&wantBits, &scale, 4);
      check.addBits(size_t(i), gotBits, wantBits);
      const float inverse = 1.0f / scale;  // the kernel's R[i]; float32 products below, as the kernel's
      for (int j = 0; j < N; ++j) {
        const size_t e = size_t(i) * N + j;
        check.addBits(size_t(M) + e, int(q[e]), int(encodeE4m3(halfToFloat(x[e]) * inverse)));
      }
    }
    if (!qs[0].guardsIntact() || !ss[0].guardsIntact()) check.fail("wrote outside Q or S");
  };
  k.run();
#elif defined(ROW_COL_SUM)
  const size_t inBytes = elems * 2, outBytes = size_t(N) * 4;
  const int sets = bench::rotationSets(inBytes + outBytes);
  auto xs = bench::bufferSets(sets, inBytes), ss = bench::bufferSets(sets, outBytes);
  bench::fillSets(xs, x);
  k.row.op = "col sum";
  k.row.shape = bench::dims({M, N}, "fp16->fp32");
  k.row.bytes = double(inBytes + outBytes);
  k.row.sets = sets;
  k.row.note = "S zeroed in each launch";
  k.tolerance = bench::Checker(0, double(2 * M + 2) * std::ldexp(1.0, -24));
  k.launch = [&](int s) {
    CUresult r = cuMemsetD32Async(ss[s].ptr(), 0, size_t(N), g.stream);
    return r != CUDA_SUCCESS ? r : KERNEL_FN(launch)(xs[s].ptr(), ss[s].ptr(), M, N, g.stream);
  };
  k.variant = [&] { return KERNEL_FN(select_variant)(xs[0].ptr(), ss[0].ptr(), M, N); };
  std::vector<float> s(N);
  k.verify = [&](bench::Checker& check) {
    ss[0].download(s.data());
    std::vector<double> sum(N, 0.0), scale(N, 0.0);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const double v = halfToFloat(x[size_t(i) * N + j]);
        sum[j] += v;
        scale[j] += std::fabs(v);
      }
    for (int j = 0; j < N; ++j) check.add(size_t(j), s[j], sum[j], scale[j]);
    if (!ss[0].guardsIntact()) check.fail("wrote outside S");
  };
  k.run();
#else
#error "define one of ROW_SOFTMAX ROW_RMSNORM ROW_LAYERNORM ROW_FP8_QUANT ROW_COL_SUM ROW_BIAS_GELU"
#endif
}

}  // namespace

int main() {
  if (!bench::dryRun()) benchRow(16384, 4096, "large");
  benchRow(256, 1024, "small");
  return bench::finish();
}
