// reduce_shfl: reductions lowered to per-thread folds and warp shuffles (issue 21,
// item 1), tests/gpu/kernels/reduce_shfl.tl, one configuration per build
// (scripts/build_gpu_tests.sh, reduce_shfl_*: -D DT/OT/BM/BN/T for tlc, the same
// facts as TLC_RS_* for this program), against a float64 CPU reference:
//   reduce_max/min/sum/abssum/absmax of each row of X over (BM, BN) tiles
//   (clear=False across column tiles; tile elements past the tensor's edge read 0
//   and count), and D = the first tile minus its row maxima (the result broadcast
//   back into a Parallel loop).
// Inputs are multiples of 1/64 in [-4, 4) (exact in float16 and bfloat16; int32:
// integers in [-1000, 1000]). Tolerances: max / min / absmax and D exact (D's
// bfloat16 rounding is reproduced); sums within 1e-5 (float32 accumulation) or 2^-7
// (a bfloat16 result) relative to sum |x|; int32 exact. Outputs poisoned first,
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

void test(int M, int N, size_t offset) {
  Gpu& g = gpu();
  const int in = TLC_RS_IN, out = TLC_RS_OUT, BM = TLC_RS_BM, BN = TLC_RS_BN;
  const double sumTol = out == 3 ? 0 : out == 2 ? 1.0 / 128 : 1e-5;
  Checker exact, sums(0, sumTol);
  const size_t elems = size_t(M) * N;
  std::vector<uint8_t> x(elems * bytesOf(in));
  Random rng(97u + uint64_t(M) * 13u + uint64_t(N));
  for (size_t e = 0; e < elems; ++e) {
    double v = in == 3 ? double(int64_t(rng.next() % 2001) - 1000) : double(int64_t(rng.next() % 512) - 256) / 64.0;
    encode(in, v, &x[e * bytesOf(in)]);
  }
  DeviceBuffer dx(x.size(), offset), dd(size_t(M) * BN * bytesOf(in), offset);
  std::vector<DeviceBuffer> outs;
  for (int k = 0; k < 5; ++k) outs.emplace_back(size_t(M) * bytesOf(out), offset);
  dx.upload(x.data());
  dd.poison();
  for (auto& o : outs) o.poison();
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "") +
                      " " + kTypeNames[in] + "->" + kTypeNames[out] + " tile " + std::to_string(BM) + "x" + std::to_string(BN);
  const char* entry = rows_variant_entry(rows_select_variant(dx.ptr(), outs[0].ptr(), outs[1].ptr(), outs[2].ptr(),
                                                             outs[3].ptr(), outs[4].ptr(), dd.ptr(), M, N));
  if (!entry) exact.fail("no variant selected");
  else if (offset && !isGeneralEntry(entry, "rows")) exact.fail("a misaligned base did not select the general variant");
  if (launchAndWait(rows_launch(dx.ptr(), outs[0].ptr(), outs[1].ptr(), outs[2].ptr(), outs[3].ptr(), outs[4].ptr(),
                                dd.ptr(), M, N, g.stream),
                    exact)) {
    std::vector<std::vector<uint8_t>> got(5, std::vector<uint8_t>(size_t(M) * bytesOf(out)));
    for (int k = 0; k < 5; ++k) outs[size_t(k)].download(got[size_t(k)].data());
    std::vector<uint8_t> d(size_t(M) * BN * bytesOf(in));
    dd.download(d.data());
    auto at = [&](int i, int j) { return j < N ? decode(in, &x[(size_t(i) * N + j) * bytesOf(in)]) : 0.0; };
    const int cols = (N + BN - 1) / BN * BN;
    for (int i = 0; i < M; ++i) {
      double mx = -1e300, mn = 1e300, sm = 0, ab = 0, am = 0, first = -1e300;
      for (int j = 0; j < cols; ++j) {
        double v = at(i, j);
        mx = std::max(mx, v), mn = std::min(mn, v), sm += v, ab += std::fabs(v), am = std::max(am, std::fabs(v));
        if (j < BN) first = std::max(first, v);
      }
      auto value = [&](int k) { return decode(out, &got[size_t(k)][size_t(i) * bytesOf(out)]); };
      exact.add(size_t(i), value(0), mx);
      exact.add(size_t(M + i), value(1), mn);
      sums.add(size_t(i), value(2), sm, ab);
      sums.add(size_t(M + i), value(3), ab, ab);
      exact.add(size_t(2 * M + i), value(4), am);
      double m = roundTo(out, first);
      for (int j = 0; j < BN; ++j)
        exact.add(size_t(3 * M + i * BN + j), decode(in, &d[(size_t(i) * BN + j) * bytesOf(in)]), roundTo(in, at(i, j) - m));
    }
    for (auto& o : outs)
      if (!o.guardsIntact()) exact.fail("wrote outside an output");
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
    for (int M : {1, 17, BM, 2 * BM + 1, 1009})
      for (int N : {1, 7, BN, 2 * BN + 3, 1031}) test(M, N, offset);
  return finish();
}
