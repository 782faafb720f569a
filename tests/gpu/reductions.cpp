// reductions: reduce_sum / max / min / abssum / absmax (tests/gpu/kernels/reductions.tl,
// issue 21 item 1) on ragged shapes, against a float64 CPU reference.
//
//   rows_f32     the five reductions of float32 rows, (16, 64) tiles, clear=False across column tiles
//   rows_f16     float16 (4, 200) tiles: row sums and maxima, and column sums (dim=0), in float32
//   softmax_f16  a float16 row softmax (N <= 128): max, exp(x - m), sum, divide; float16 out
//   rows_shared  row maxima of a shared (16, 96) tile into a shared (16,) tile
//
// A tile's elements past the tensor's edge hold the copy's safe value (0; the softmax
// annotates -65504) and count in the reduction: the reference reduces the same tile.
// Tolerances: max / min / absmax exact; sums within 1e-5 relative to sum |x| (float32
// accumulation of at most a few hundred terms); softmax within 2^-10 relative plus
// 1e-6 absolute (a float16 result, a float32 exp). Outputs poisoned first, guard zones
// checked; bases aligned and 8 bytes off 16 (which must run the general variant).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "reductions.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Random float16 values of magnitude in [2^-4, 4): exponent field 11..16, either sign.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed) {
  Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = uint16_t(((x & 1) << 15) | ((11 + (x >> 1) % 6) << 10) | ((x >> 8) & 0x3ff));
  }
}

std::string shapeOf(int M, int N, size_t offset, const char* type) {
  return std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "") + " " + type;
}

// `alignment`: the bytes the kernel's aligned variant asks of its bases (its vector
// width: 16 for most, 8 for softmax_f16's four float16 per access); a base off by a
// multiple of it may run either variant, by the shape.
void checkVariant(const char* entry, const char* kernel, size_t offset, Checker& check, size_t alignment = 16) {
  if (!entry) check.fail("no variant selected");
  else if (offset % alignment != 0 && !isGeneralEntry(entry, kernel))
    check.fail("a misaligned base did not select the general variant");
}

void testRowsF32(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker exact, sums(0, 1e-5);
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems);
  fillUniform(x, 71u + M * 3u + N, -4.0f, 4.0f);
  DeviceBuffer dx(elems * 4, offset);
  std::vector<DeviceBuffer> out;
  for (int k = 0; k < 5; ++k) out.emplace_back(size_t(M) * 4, offset);
  dx.upload(x.data());
  for (auto& o : out) o.poison();
  const std::string shape = shapeOf(M, N, offset, "fp32");
  const char* entry = rows_f32_variant_entry(
      rows_f32_select_variant(dx.ptr(), out[0].ptr(), out[1].ptr(), out[2].ptr(), out[3].ptr(), out[4].ptr(), M, N));
  checkVariant(entry, "rows_f32", offset, exact);
  if (launchAndWait(rows_f32_launch(dx.ptr(), out[0].ptr(), out[1].ptr(), out[2].ptr(), out[3].ptr(), out[4].ptr(), M, N,
                                    g.stream),
                    exact)) {
    std::vector<std::vector<float>> got(5, std::vector<float>(M));
    for (int k = 0; k < 5; ++k) out[size_t(k)].download(got[size_t(k)].data());
    const int cols = (N + 63) / 64 * 64;
    for (int i = 0; i < M; ++i) {
      double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0;
      for (int j = 0; j < cols; ++j) {
        double v = j < N ? x[size_t(i) * N + j] : 0.0;  // the copy's safe value past the edge
        mx = std::max(mx, v), mn = std::min(mn, v), sm += v, ab += std::fabs(v), am = std::max(am, std::fabs(v));
      }
      exact.add(size_t(i), got[0][i], mx);
      exact.add(size_t(M + i), got[1][i], mn);
      sums.add(size_t(i), got[2][i], sm, ab);
      sums.add(size_t(M + i), got[3][i], ab, ab);
      exact.add(size_t(2 * M + i), got[4][i], am);
    }
    for (auto& o : out)
      if (!o.guardsIntact()) exact.fail("wrote outside an output");
    if (!dx.guardsIntact()) exact.fail("wrote outside X");
  }
  Result r = untimedResult("rows_f32", shape, exact.passed() && sums.passed(), entry ? entry : "?");
  r.maxErr = std::max(exact.maxError(), sums.maxError());
  report(r);
}

void testRowsF16(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker exact, sums(0, 1e-5);
  const int R = (M + 3) / 4;
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems);
  fillHalf(x, 73u + M * 5u + N);
  DeviceBuffer dx(elems * 2, offset), dsm(size_t(M) * 4, offset), dmx(size_t(M) * 4, offset),
      dcs(size_t(R) * N * 4, offset);
  dx.upload(x.data());
  dsm.poison();
  dmx.poison();
  dcs.poison();
  const std::string shape = shapeOf(M, N, offset, "fp16->fp32");
  const char* entry =
      rows_f16_variant_entry(rows_f16_select_variant(dx.ptr(), dsm.ptr(), dmx.ptr(), dcs.ptr(), M, N, R));
  checkVariant(entry, "rows_f16", offset, exact);
  if (launchAndWait(rows_f16_launch(dx.ptr(), dsm.ptr(), dmx.ptr(), dcs.ptr(), M, N, R, g.stream), exact)) {
    std::vector<float> sm(M), mx(M), cs(size_t(R) * N);
    dsm.download(sm.data());
    dmx.download(mx.data());
    dcs.download(cs.data());
    auto at = [&](int i, int j) { return i < M && j < N ? double(halfToFloat(x[size_t(i) * N + j])) : 0.0; };
    const int cols = (N + 199) / 200 * 200;
    for (int i = 0; i < M; ++i) {
      double s = 0, a = 0, m = -1e300;
      for (int j = 0; j < cols; ++j) s += at(i, j), a += std::fabs(at(i, j)), m = std::max(m, at(i, j));
      sums.add(size_t(i), sm[i], s, a);
      exact.add(size_t(i), mx[i], m);
    }
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < std::min(N, 200); ++j) {  // the copy writes each block's first 200 columns
        double s = 0, a = 0;
        for (int i = r * 4; i < r * 4 + 4; ++i) s += at(i, j), a += std::fabs(at(i, j));
        sums.add(size_t(M + r * N + j), cs[size_t(r) * N + j], s, a);
      }
    if (!dsm.guardsIntact() || !dmx.guardsIntact() || !dcs.guardsIntact()) exact.fail("wrote outside an output");
  }
  Result r = untimedResult("rows_f16", shape, exact.passed() && sums.passed(), entry ? entry : "?");
  r.maxErr = std::max(exact.maxError(), sums.maxError());
  report(r);
}

void testSoftmax(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check(1e-6, 1.0 / 1024);
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> x(elems), y(elems);
  fillHalf(x, 79u + M * 11u + N);
  DeviceBuffer dx(elems * 2, offset), dy(elems * 2, offset);
  dx.upload(x.data());
  dy.poison();
  const std::string shape = shapeOf(M, N, offset, "fp16");
  const char* entry = softmax_f16_variant_entry(softmax_f16_select_variant(dx.ptr(), dy.ptr(), M, N));
  checkVariant(entry, "softmax_f16", offset, check, 8);
  if (launchAndWait(softmax_f16_launch(dx.ptr(), dy.ptr(), M, N, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i) {
      double m = -1e300, s = 0;
      for (int j = 0; j < N; ++j) m = std::max(m, double(halfToFloat(x[size_t(i) * N + j])));
      for (int j = 0; j < N; ++j) s += std::exp(double(halfToFloat(x[size_t(i) * N + j])) - m);
      for (int j = 0; j < N; ++j) {
        size_t e = size_t(i) * N + j;
        check.add(e, halfToFloat(y[e]), std::exp(double(halfToFloat(x[e])) - m) / s);
      }
    }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
  }
  Result r = untimedResult("softmax_f16", shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

void testRowsShared(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems), mx(M);
  fillUniform(x, 83u + M + N, -4.0f, 4.0f);
  DeviceBuffer dx(elems * 4, offset), dmx(size_t(M) * 4, offset);
  dx.upload(x.data());
  dmx.poison();
  const std::string shape = shapeOf(M, N, offset, "fp32");
  const char* entry = rows_shared_variant_entry(rows_shared_select_variant(dx.ptr(), dmx.ptr(), M, N));
  checkVariant(entry, "rows_shared", offset, check);
  if (launchAndWait(rows_shared_launch(dx.ptr(), dmx.ptr(), M, N, g.stream), check)) {
    dmx.download(mx.data());
    for (int i = 0; i < M; ++i) {
      double m = -1e300;
      for (int j = 0; j < 96; ++j) m = std::max(m, j < N ? double(x[size_t(i) * N + j]) : 0.0);
      check.add(size_t(i), mx[i], m);
    }
    if (!dmx.guardsIntact()) check.fail("wrote outside MX");
  }
  Result r = untimedResult("rows_shared", shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# reductions (reduce_sum/max/min/abssum/absmax) on %s\n", gpu().name.c_str());
  for (size_t offset : {size_t(0), size_t(8)}) {
    for (int M : {1, 17, 64, 1009})
      for (int N : {1, 7, 64, 131, 1031}) testRowsF32(M, N, offset);
    for (int M : {1, 5, 4, 67})
      for (int N : {1, 3, 200, 201, 777}) testRowsF16(M, N, offset);
    for (int M : {1, 17, 8, 1031})
      for (int N : {1, 7, 100, 127, 128}) testSoftmax(M, N, offset);
    for (int M : {1, 17, 33})
      for (int N : {1, 5, 95, 96}) testRowsShared(M, N, offset);
  }
  // softmax_f16's aligned variant asks 8 bytes: 2 bytes off forces the general one.
  for (int M : {1, 17})
    for (int N : {100, 128}) testSoftmax(M, N, 2);
  return finish();
}
