// atomics: atomic_add / atomic_max / atomic_min on the GPU (tests/gpu/kernels/atomics.tl,
// issue 21), against CPU references on ragged shapes.
//
//   col_sum        S[j] += X[i, j] for every row (one red.global.add.f32 per element)
//   tile_acc_f32   Y += X twice, a float32 fragment accumulated into its global tile
//   tile_acc_f16   Y += X, float16 (red ... f16x2 pairs in the aligned variant)
//   tile_acc_bf16  Y += X, bfloat16 (bf16x2 pairs in the aligned variant)
//   histogram      int32 counts in shared memory, then into H; F: the old H[0] per block
//   extremes       float32 / int32 max and min (negatives, -0.0), the old values
//
// Atomics accumulate, so every destination starts at known random values instead of
// poison; the rest of each buffer (guards) must stay intact. Float sums in an order
// the hardware picks: within (terms + 1) roundings of the largest partial sum; a
// single add per element (the tile accumulates) and ints exactly. Pointers 4 bytes
// off alignment must run the general variant (one element per atomic).
#include "harness.h"

#include <algorithm>
#include <map>
#include <tuple>

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "atomics.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

float bitsToFloat(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t floatToBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// double -> float16: round to nearest even, overflow to infinity, subnormal halves
// included (halfToFloat, the exact other way, is harness.h's).
uint16_t doubleToHalf(double d) {
  // Candidates by bisection over the ordered codes of one sign: exact and simple.
  uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  double a = std::fabs(d);
  if (a >= 65520.0) return uint16_t(sign | 0x7c00);
  uint16_t lo = 0, hi = 0x7bff;
  while (lo < hi) {  // the largest code whose value is <= a
    uint16_t mid = uint16_t((lo + hi + 1) / 2);
    if (double(halfToFloat(mid)) <= a) lo = mid; else hi = uint16_t(mid - 1);
  }
  double below = halfToFloat(lo), above = lo == 0x7bff ? 65536.0 : double(halfToFloat(uint16_t(lo + 1)));
  uint16_t code = a - below < above - a ? lo : a - below > above - a ? uint16_t(lo + 1) : (lo & 1 ? uint16_t(lo + 1) : lo);
  return uint16_t(sign | code);
}
float bf16ToFloat(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }
uint16_t doubleToBf16(double d) {
  // Used on values that float32 holds exactly (the test's bfloat16 values and sums of
  // two of them, which span fewer than 24 bits): round once, nearest even, at bit 16.
  float f = float(d);
  uint32_t x = floatToBits(f);
  uint32_t rest = x & 0xffff, top = x >> 16;
  if (rest > 0x8000 || (rest == 0x8000 && (top & 1))) ++top;
  return uint16_t(top);
}

uint64_t nextRandom(uint64_t& x) {
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return x;
}
// Values in [-4, 4) with 8 significant bits: every value is a float16 and a bfloat16,
// and a sum of two is exact in float32.
double smallValue(uint64_t& x) { return double(int(nextRandom(x) % 2048) - 1024) / 256.0; }

std::string shapeOf(int M, int N, size_t offset) {
  return std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "");
}

void testColSum(int M, int N) {
  Gpu& g = gpu();
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems), s(N), out(N);
  uint64_t seed = 11u + M * 7u + N;
  for (float& v : x) v = float(smallValue(seed));
  for (float& v : s) v = float(smallValue(seed));
  // (M + 1) roundings, each at most half an ulp of a partial sum of at most 4 (M + 1).
  Checker check(double(M + 1) * 4.0 * double(M + 1) * 0x1p-24);
  DeviceBuffer dx(elems * 4), ds(size_t(N) * 4);
  dx.upload(x.data());
  ds.upload(s.data());
  const std::string shape = shapeOf(M, N, 0);
  const char* entry = col_sum_variant_entry(col_sum_select_variant(dx.ptr(), ds.ptr(), M, N));
  if (launchAndWait(col_sum_launch(dx.ptr(), ds.ptr(), M, N, g.stream), check)) {
    ds.download(out.data());
    for (int j = 0; j < N; ++j) {
      double want = s[j];
      for (int i = 0; i < M; ++i) want += x[size_t(i) * N + j];
      check.add(j, out[j], want, 1.0);
    }
    if (!ds.guardsIntact() || !dx.guardsIntact()) check.fail("wrote outside a buffer");
  }
  Result r = untimedResult("col_sum", shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

// Y += X (times), 2-byte or 4-byte elements; every add rounds once: exact references.
template <class Elem>
void testTileAccumulate(const char* name, int M, int N, size_t offset, int wantAligned, int times,
                        CUresult (*launch)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream),
                        int (*select)(CUdeviceptr, CUdeviceptr, int32_t, int32_t), const char* (*entryOf)(int),
                        double (*toDouble)(Elem), Elem (*fromDouble)(double)) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<Elem> x(elems), y(elems), out(elems);
  uint64_t seed = 29u + M * 5u + N;
  for (size_t k = 0; k < elems; ++k) {
    x[k] = fromDouble(smallValue(seed));
    y[k] = fromDouble(smallValue(seed));
  }
  DeviceBuffer dx(elems * sizeof(Elem), offset), dy(elems * sizeof(Elem), offset);
  dx.upload(x.data());
  dy.upload(y.data());
  const std::string shape = shapeOf(M, N, offset);
  const char* entry = entryOf(select(dx.ptr(), dy.ptr(), M, N));
  if (wantAligned >= 0)
    expectVariant(entry, wantAligned ? (std::string(name) + "_aligned").c_str() : name, shape, check);
  if (launchAndWait(launch(dx.ptr(), dy.ptr(), M, N, g.stream), check)) {
    dy.download(out.data());
    for (size_t k = 0; k < elems; ++k) {
      Elem want = y[k];
      for (int t = 0; t < times; ++t) want = fromDouble(toDouble(want) + toDouble(x[k]));
      check.addBits(k, out[k], want);
    }
    if (!dy.guardsIntact() || !dx.guardsIntact()) check.fail("wrote outside a buffer");
  }
  Result r = untimedResult(name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

double f32ToDouble(uint32_t b) { return bitsToFloat(b); }
uint32_t doubleToF32(double d) { return floatToBits(float(d)); }
double f16ToDouble(uint16_t b) { return halfToFloat(b); }
double bf16ToDouble(uint16_t b) { return bf16ToFloat(b); }

void testHistogram(int L) {
  Gpu& g = gpu();
  Checker check;
  const int blocks = (L + 255) / 256;
  std::vector<int32_t> v(L), h(64), f(blocks), outH(64), outF(blocks);
  std::vector<int64_t> count(64, 0), perBlock0(blocks, 0);
  uint64_t seed = 5u + L;
  for (int i = 0; i < L; ++i) {
    v[i] = int32_t(nextRandom(seed) % 64);
    ++count[v[i]];
    if (v[i] == 0) ++perBlock0[i / 256];
  }
  for (int b = 0; b < 64; ++b) h[b] = 1000 * b - 7;
  DeviceBuffer dv(size_t(L) * 4), dh(64 * 4), df(size_t(blocks) * 4);
  dv.upload(v.data());
  dh.upload(h.data());
  df.poison();
  const std::string shape = "L=" + std::to_string(L);
  const char* entry = histogram_variant_entry(histogram_select_variant(dv.ptr(), dh.ptr(), df.ptr(), L, blocks));
  if (launchAndWait(histogram_launch(dv.ptr(), dh.ptr(), df.ptr(), L, blocks, g.stream), check)) {
    dh.download(outH.data());
    df.download(outF.data());
    for (int b = 0; b < 64; ++b) check.addBits(b, outH[b], int32_t(h[b] + count[b]));
    // The blocks reach H[0] in some order: each old value is H0[0] plus the counts of
    // the blocks before it in that order, so sorted by old value the blocks must
    // chain: old[next] = old[prev] + count of prev.
    // Blocks that added 0 share their old value with the next one: they sort first.
    std::vector<std::tuple<int32_t, int64_t, int>> order;
    for (int b = 0; b < blocks; ++b) order.push_back({outF[b], perBlock0[b], b});
    std::sort(order.begin(), order.end());
    int64_t expect = h[0];
    for (const auto& [old, added, b] : order) {
      if (old != expect) {
        check.fail("the old values of H[0] do not chain");
        break;
      }
      expect += added;
    }
    if (!dh.guardsIntact() || !df.guardsIntact()) check.fail("wrote outside a buffer");
  }
  Result r = untimedResult("histogram", shape, check.passed(), entry ? entry : "?");
  report(r);
}

void testExtremes(int L, bool negativeOnly) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> x(L), r(4), outR(4), p(L);
  std::vector<int32_t> iv(L), q(4), outQ(4);
  uint64_t seed = 77u + L + (negativeOnly ? 1000 : 0);
  for (int i = 0; i < L; ++i) {
    double v = smallValue(seed) * 1000.0;
    x[i] = float(negativeOnly ? -std::fabs(v) : v);
    iv[i] = int32_t(nextRandom(seed) % 20001) - 10000;
  }
  if (L > 1) x[1] = negativeOnly ? -0.0f : 0.0f;
  r = {-1e30f, 1e30f, -1e30f, 5.0f};
  q = {-2147483647, 2147483647, 9, 9};
  DeviceBuffer dx(size_t(L) * 4), di(size_t(L) * 4), dr(16), dq(16), dp(size_t(L) * 4);
  dx.upload(x.data());
  di.upload(iv.data());
  dr.upload(r.data());
  dq.upload(q.data());
  dp.poison();
  const std::string shape = "L=" + std::to_string(L) + (negativeOnly ? " negative" : "");
  const char* entry =
      extremes_variant_entry(extremes_select_variant(dx.ptr(), di.ptr(), dr.ptr(), dq.ptr(), dp.ptr(), L));
  if (launchAndWait(extremes_launch(dx.ptr(), di.ptr(), dr.ptr(), dq.ptr(), dp.ptr(), L, g.stream), check)) {
    dr.download(outR.data());
    dq.download(outQ.data());
    dp.download(p.data());
    // The float order of the GPU's integer pair: -0.0 below +0.0.
    auto less = [](float a, float b) { return a < b || (a == b && std::signbit(a) && !std::signbit(b)); };
    float mx = r[0], mn = r[1];
    int32_t imx = q[0], imn = q[1];
    for (int i = 0; i < L; ++i) {
      if (less(mx, x[i])) mx = x[i];
      if (less(x[i], mn)) mn = x[i];
      imx = std::max(imx, iv[i]);
      imn = std::min(imn, iv[i]);
    }
    check.addBits(0, floatToBits(outR[0]), floatToBits(mx));
    check.addBits(1, floatToBits(outR[1]), floatToBits(mn));
    check.addBits(2, floatToBits(outR[2]), floatToBits(mx));
    check.addBits(3, floatToBits(outR[3]), floatToBits(5.0f));
    check.addBits(4, outQ[0], imx);
    check.addBits(5, outQ[1], imn);
    check.addBits(6, outQ[2], 9);
    check.addBits(7, outQ[3], 9);
    // Each old value of R[2] is its start or an input, never above the maximum.
    std::map<uint32_t, int> known;
    known[floatToBits(-1e30f)] = 1;
    for (float v : x) known[floatToBits(v)] = 1;
    for (int i = 0; i < L; ++i)
      if (!known.count(floatToBits(p[i])) || less(mx, p[i])) {
        check.fail("an old value of R[2] that was never there");
        break;
      }
    if (!dr.guardsIntact() || !dq.guardsIntact() || !dp.guardsIntact()) check.fail("wrote outside a buffer");
  }
  Result res = untimedResult("extremes", shape, check.passed(), entry ? entry : "?");
  report(res);
}

}  // namespace

int main() {
  std::printf("# atomics (atomic_add / max / min, ragged shapes) on %s\n", gpu().name.c_str());
  for (int M : {1, 17, 31, 64, 1009})
    for (int N : {1, 7, 131, 256}) testColSum(M, N);
  const int rows[] = {1, 17, 32, 131};
  const int cols[] = {1, 7, 64, 136, 257};
  for (int M : rows)
    for (int N : cols) {
      testTileAccumulate<uint32_t>("tile_acc_f32", M, N, 0, N % 4 == 0 ? 1 : 0, 2, tile_acc_f32_launch,
                                   tile_acc_f32_select_variant, tile_acc_f32_variant_entry, f32ToDouble, doubleToF32);
      testTileAccumulate<uint32_t>("tile_acc_f32", M, N, 4, 0, 2, tile_acc_f32_launch, tile_acc_f32_select_variant,
                                   tile_acc_f32_variant_entry, f32ToDouble, doubleToF32);
      testTileAccumulate<uint16_t>("tile_acc_f16", M, N, 0, N % 8 == 0 ? 1 : 0, 1, tile_acc_f16_launch,
                                   tile_acc_f16_select_variant, tile_acc_f16_variant_entry, f16ToDouble, doubleToHalf);
      testTileAccumulate<uint16_t>("tile_acc_f16", M, N, 2, 0, 1, tile_acc_f16_launch, tile_acc_f16_select_variant,
                                   tile_acc_f16_variant_entry, f16ToDouble, doubleToHalf);
      testTileAccumulate<uint16_t>("tile_acc_bf16", M, N, 0, N % 8 == 0 ? 1 : 0, 1, tile_acc_bf16_launch,
                                   tile_acc_bf16_select_variant, tile_acc_bf16_variant_entry, bf16ToDouble, doubleToBf16);
      testTileAccumulate<uint16_t>("tile_acc_bf16", M, N, 2, 0, 1, tile_acc_bf16_launch, tile_acc_bf16_select_variant,
                                   tile_acc_bf16_variant_entry, bf16ToDouble, doubleToBf16);
    }
  for (int L : {1, 255, 256, 1031, 100003}) testHistogram(L);
  for (int L : {1, 2, 300, 4099})
    for (bool negative : {false, true}) testExtremes(L, negative);
  return finish();
}
