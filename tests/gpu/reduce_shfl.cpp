// reduce_shfl: reductions lowered to per-thread folds and warp shuffles (issue 21,
// item 1), tests/gpu/kernels/reduce_shfl.tl, one configuration per build
// (scripts/build_gpu_tests.sh, reduce_shfl_*: -D DT/OT/BM/BN/T for tlc, the same
// facts as TLC_RS_* for this program), against a float64 CPU reference:
//   rows: reduce_max/min/sum/abssum/absmax of each row of X over (BM, BN) tiles
//   (clear=False across column tiles; tile elements past the tensor's edge read 0
//   and count), and D = the first tile minus its row maxima (the result broadcast
//   back into a Parallel loop); cols: the same down the columns (dim=0), across row
//   tiles, D = the first row tile minus its column maxima.
// Inputs are multiples of 1/64 in [-4, 4) (exact in float16 and bfloat16; int32:
// integers in [-1000, 1000]). Tolerances: max / min / absmax and D exact (D's
// bfloat16 rounding is reproduced); sums are exact in float32 for these inputs and
// the reference rounds a bfloat16 dst after each tile as clear=False does: within
// 1e-6, or 2^-8 relative for bfloat16; int32 exact. Outputs poisoned first,
// guard zones checked; bases aligned and 8 bytes off 16 (which must run the general
// variant). The remark of each configuration (tlc --remarks) names its lowering.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "reduce_shfl.h"
#endif
#include TLC_KERNEL_HEADER

#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "reduce_shfl"
#endif

#ifndef TLC_RS_IN
#define TLC_RS_IN 0  // 0 float32, 1 float16, 2 bfloat16, 3 int32
#endif
#ifndef TLC_RS_OUT
#define TLC_RS_OUT 0
#endif
#ifndef TLC_RS_BM
#define TLC_RS_BM 16
#endif
#ifndef TLC_RS_BN
#define TLC_RS_BN 32
#endif

using namespace gpu_test;

namespace {

const char* const kTypeNames[] = {"fp32", "fp16", "bf16", "int32"};

size_t bytesOf(int kind) { return kind == 1 || kind == 2 ? 2 : 4; }

double halfBits(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double magnitude = exponent == 0 ? std::ldexp(double(mantissa), -24) : std::ldexp(double(mantissa | 0x400), exponent - 25);
  return h >> 15 ? -magnitude : magnitude;
}

// float -> bfloat16 bits, round to nearest even (the GPU's cvt.rn.bf16.f32).
uint16_t bf16Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b += 0x7fff + ((b >> 16) & 1);
  return uint16_t(b >> 16);
}

double decode(int kind, const uint8_t* p) {
  switch (kind) {
    case 0: { float f; std::memcpy(&f, p, 4); return f; }
    case 1: { uint16_t h; std::memcpy(&h, p, 2); return halfBits(h); }
    case 2: { uint16_t h; std::memcpy(&h, p, 2); uint32_t b = uint32_t(h) << 16; float f; std::memcpy(&f, &b, 4); return f; }
    default: { int32_t i; std::memcpy(&i, p, 4); return i; }
  }
}

// Exact for the inputs this test makes (multiples of 1/64 below 4 in magnitude, or
// integers); bfloat16 rounds to nearest even (D's reference).
void encode(int kind, double v, uint8_t* p) {
  switch (kind) {
    case 0: { float f = float(v); std::memcpy(p, &f, 4); return; }
    case 1: {
      // |v| < 16, a multiple of 2^-6: sign, exponent and 10 mantissa bits, exactly.
      uint16_t h = v < 0 ? 0x8000 : 0;
      double a = std::fabs(v);
      if (a != 0) {
        int e;
        double m = std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
        h |= uint16_t(((e + 14) << 10) | (uint32_t(std::ldexp(m, 11)) & 0x3ff));
      }
      std::memcpy(p, &h, 2);
      return;
    }
    case 2: { uint16_t h = bf16Bits(float(v)); std::memcpy(p, &h, 2); return; }
    default: { int32_t i = int32_t(v); std::memcpy(p, &i, 4); return; }
  }
}

double roundTo(int kind, double v) {
  uint8_t b[4];
  encode(kind, v, b);
  return decode(kind, b);
}

// `cols`: the reductions run down the columns (dim=0), X's tiles are (BM, BN) blocks
// of rows, and D is the first row tile minus its column maxima.
void test(bool cols, int M, int N, size_t offset) {
  Gpu& g = gpu();
  const int in = TLC_RS_IN, out = TLC_RS_OUT, BM = TLC_RS_BM, BN = TLC_RS_BN;
  // Sums are exact in float32 for these inputs; a bfloat16 dst is rounded after each
  // tile (clear=False stores it), which the reference does too: 2^-8 of slack.
  Checker exact, sums(1e-6, out == 2 ? 1.0 / 256 : 1e-6);
  const size_t elems = size_t(M) * N;
  std::vector<uint8_t> x(elems * bytesOf(in));
  Random rng(97u + uint64_t(M) * 13u + uint64_t(N) + (cols ? 7 : 0));
  for (size_t e = 0; e < elems; ++e) {
    double v = in == 3 ? double(int64_t(rng.next() % 2001) - 1000) : double(int64_t(rng.next() % 512) - 256) / 64.0;
    encode(in, v, &x[e * bytesOf(in)]);
  }
  const int outs_n = cols ? N : M;                      // results
  const size_t dElems = cols ? size_t(BM) * N : size_t(M) * BN;
  DeviceBuffer dx(x.size(), offset), dd(dElems * bytesOf(in), offset);
  std::vector<DeviceBuffer> outs;
  for (int k = 0; k < 5; ++k) outs.emplace_back(size_t(outs_n) * bytesOf(out), offset);
  dx.upload(x.data());
  dd.poison();
  for (auto& o : outs) o.poison();
  std::string shape = std::string(cols ? "cols " : "rows ") + std::to_string(M) + "x" + std::to_string(N) +
                      (offset ? " +" + std::to_string(offset) + "B" : "") + " " + kTypeNames[in] + "->" + kTypeNames[out] +
                      " tile " + std::to_string(BM) + "x" + std::to_string(BN);
  CUdeviceptr o[5];
  for (int k = 0; k < 5; ++k) o[k] = outs[size_t(k)].ptr();
  const char* kernel = cols ? "cols" : "rows";
  const char* entry = cols ? cols_variant_entry(cols_select_variant(dx.ptr(), o[0], o[1], o[2], o[3], o[4], dd.ptr(), M, N))
                           : rows_variant_entry(rows_select_variant(dx.ptr(), o[0], o[1], o[2], o[3], o[4], dd.ptr(), M, N));
  if (!entry) exact.fail("no variant selected");
  else if (offset && !isGeneralEntry(entry, kernel)) exact.fail("a misaligned base did not select the general variant");
  CUresult launched = cols ? cols_launch(dx.ptr(), o[0], o[1], o[2], o[3], o[4], dd.ptr(), M, N, g.stream)
                           : rows_launch(dx.ptr(), o[0], o[1], o[2], o[3], o[4], dd.ptr(), M, N, g.stream);
  if (launchAndWait(launched, exact)) {
    std::vector<std::vector<uint8_t>> got(5, std::vector<uint8_t>(size_t(outs_n) * bytesOf(out)));
    for (int k = 0; k < 5; ++k) outs[size_t(k)].download(got[size_t(k)].data());
    std::vector<uint8_t> d(dElems * bytesOf(in));
    dd.download(d.data());
    // Element (i, j) as the tiles see it: 0 past the tensor's edge.
    auto at = [&](int i, int j) { return i < M && j < N ? decode(in, &x[(size_t(i) * N + j) * bytesOf(in)]) : 0.0; };
    const int length = cols ? (M + BM - 1) / BM * BM : (N + BN - 1) / BN * BN, tile = cols ? BM : BN;
    std::vector<double> firstMax(static_cast<size_t>(outs_n));
    for (int r = 0; r < outs_n; ++r) {
      double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0, first = -1e300, tsm = 0, tab = 0;
      for (int t = 0; t < length; ++t) {
        double v = cols ? at(t, r) : at(r, t);
        mx = std::max(mx, v), mn = std::min(mn, v), tsm += v, tab += std::fabs(v), am = std::max(am, std::fabs(v));
        if (t < tile) first = std::max(first, v);
        if ((t + 1) % tile == 0) {  // dst = round(dst + the tile's sum)
          sm = roundTo(out, sm + tsm), ab = roundTo(out, ab + tab);
          tsm = tab = 0;
        }
      }
      auto value = [&](int k) { return decode(out, &got[size_t(k)][size_t(r) * bytesOf(out)]); };
      exact.add(size_t(r), value(0), mx);
      exact.add(size_t(outs_n + r), value(1), mn);
      sums.add(size_t(r), value(2), sm);
      sums.add(size_t(outs_n + r), value(3), ab);
      exact.add(size_t(2 * outs_n + r), value(4), am);
      firstMax[size_t(r)] = roundTo(out, first);
    }
    for (size_t e = 0; e < dElems; ++e) {
      int i = cols ? int(e / size_t(N)) : int(e / size_t(BN)), j = cols ? int(e % size_t(N)) : int(e % size_t(BN));
      double m = firstMax[size_t(cols ? j : i)];
      exact.add(size_t(3 * outs_n) + e, decode(in, &d[e * bytesOf(in)]), roundTo(in, at(i, j) - m));
    }
    for (auto& b : outs)
      if (!b.guardsIntact()) exact.fail("wrote outside an output");
    if (!dd.guardsIntact() || !dx.guardsIntact()) exact.fail("wrote outside D or X");
  }
  Result r = untimedResult(TLC_TEST_NAME, shape, exact.passed() && sums.passed(), entry ? entry : "?");
  r.maxErr = std::max(exact.maxError(), sums.maxError());
  report(r);
}

}  // namespace

int main() {
  std::printf("# %s: reductions through warp shuffles on %s\n", TLC_TEST_NAME, gpu().name.c_str());
  const int BM = TLC_RS_BM, BN = TLC_RS_BN;
  for (size_t offset : {size_t(0), size_t(8)})
    for (bool cols : {false, true})
      for (int M : {1, 17, BM, 2 * BM + 1, 1009})
        for (int N : {1, 7, BN, 2 * BN + 3, 1031}) test(cols, M, N, offset);
  return finish();
}
