// fragment_broadcast: a smaller fragment read inside a larger Parallel loop
// (tests/gpu/kernels/fragment_broadcast.tl, issue 20 item 1), on ragged shapes.
//
//   row_scale_frag    Y = X * (2 V[row])   V copied into a (16,) fragment, doubled in its own loop
//   col_bias_frag     Y = X + V[column]    the innermost axis kept (a vector's worth per thread)
//   row_scale_direct  Y = X * V[row]       the loop touches no fragment of its own shape
//   row_scale_rolled  Y = X * V[row]       (64, 512) tiles: loops past the unrolling budget
//   row_out           O = P = 3 V          a broadcast fragment stored back, by a copy and a loop
//   transposed_read   Y = X * V[col, row]  a fragment read with the loop's variables swapped
//   div_reads         Y = X + 2 G[row, col // 8] + H[row, col // 6] - R[row // 4, col] per tile,
//                     GO = 2 G (a copy back), HP = H + 1 (a loop's store): divided indices
//   staged_reads      Y = X + U[row, col % 8] - W[row + 1] + (V[r0] + 1) + (V[r0] + 2): reads no
//                     broadcast serves, through shared tiles (one staged twice in a serial loop)
//
// float32 throughout, one rounding per element: compared bit-exactly with the CPU.
// Every output is poisoned first; guard zones of every buffer must be intact. M and N
// of 1, primes, and multiples of the tiles; pointers aligned and 8 bytes off 16 (the
// general variant).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "fragment_broadcast.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using VectorLaunch = CUresult (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using VectorSelect = int (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t);
using VectorEntry = const char* (*)(int);

struct VectorKernel {
  const char* name;
  VectorLaunch launch;
  VectorSelect select;
  VectorEntry entry;
  bool perRow;  // V has M elements (else N)
  bool add;     // Y = X + s V, else Y = X * (s V)
  float scale;
  int vector;   // elements per aligned access of the aligned variant (N % vector == 0 picks it)
  bool transposed = false;  // V is (N, M), read as V[column, row]
};

std::string shapeOf(int M, int N, size_t offset) {
  return std::to_string(M) + "x" + std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "") + " fp32";
}

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

void testVector(const VectorKernel& k, int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N, vn = k.transposed ? elems : k.perRow ? M : N;
  std::vector<float> x(elems), v(vn), y(elems);
  fillUniform(x, 51u + M * 7u + N);
  fillUniform(v, 53u + vn);
  DeviceBuffer dx(elems * 4, offset), dv(vn * 4, offset), dy(elems * 4, offset);
  dx.upload(x.data());
  dv.upload(v.data());
  dy.poison();
  const std::string shape = shapeOf(M, N, offset);
  const char* entry = k.entry(k.select(dx.ptr(), dv.ptr(), dy.ptr(), M, N));
  const bool aligned = offset == 0 && N % k.vector == 0;
  expectVariant(entry, aligned ? (std::string(k.name) + "_aligned").c_str() : k.name, shape, check);
  if (launchAndWait(k.launch(dx.ptr(), dv.ptr(), dy.ptr(), M, N, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t e = size_t(i) * N + j;
        float s = (k.transposed ? v[size_t(j) * M + i] : v[k.perRow ? i : j]) * k.scale;
        check.addBits(e, bitsOf(y[e]), bitsOf(k.add ? x[e] + s : x[e] * s));
      }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact() || !dv.guardsIntact()) check.fail("wrote outside an input");
  }
  Result r = untimedResult(k.name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

void testRowOut(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems), v(M), o(M), p(M);
  fillUniform(x, 61u + M + N);
  fillUniform(v, 67u + M);
  DeviceBuffer dx(elems * 4, offset), dv(size_t(M) * 4, offset), dO(size_t(M) * 4, offset), dp(size_t(M) * 4, offset);
  dx.upload(x.data());
  dv.upload(v.data());
  dO.poison();
  dp.poison();
  const std::string shape = shapeOf(M, N, offset);
  const char* entry = row_out_variant_entry(row_out_select_variant(dx.ptr(), dv.ptr(), dO.ptr(), dp.ptr(), M, N));
  const bool aligned = offset == 0 && N % 4 == 0;
  expectVariant(entry, aligned ? "row_out_aligned" : "row_out", shape, check);
  if (launchAndWait(row_out_launch(dx.ptr(), dv.ptr(), dO.ptr(), dp.ptr(), M, N, g.stream), check)) {
    dO.download(o.data());
    dp.download(p.data());
    for (int i = 0; i < M; ++i) {
      check.addBits(size_t(i), bitsOf(o[i]), bitsOf(v[i] * 3.0f));
      check.addBits(size_t(M + i), bitsOf(p[i]), bitsOf(v[i] * 3.0f));
    }
    if (!dO.guardsIntact() || !dp.guardsIntact()) check.fail("wrote outside O or P");
    if (!dx.guardsIntact() || !dv.guardsIntact()) check.fail("wrote outside an input");
  }
  Result r = untimedResult("row_out", shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

void testDivReads(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const int tiles = (N + 63) / 64, C = 8 * tiles, D = 11 * tiles, Q = (M + 3) / 4;
  const size_t elems = size_t(M) * N, ge = size_t(M) * C, he = size_t(M) * D, re = size_t(Q) * N;
  std::vector<float> x(elems), gv(ge), h(he), r(re), y(elems), go(ge), hp(he);
  fillUniform(x, 71u + M + N);
  fillUniform(gv, 73u + M);
  fillUniform(h, 79u + N);
  fillUniform(r, 83u + M * 3u);
  DeviceBuffer dx(elems * 4, offset), dg(ge * 4, offset), dh(he * 4, offset), dr(re * 4, offset), dy(elems * 4, offset),
      dgo(ge * 4, offset), dhp(he * 4, offset);
  dx.upload(x.data());
  dg.upload(gv.data());
  dh.upload(h.data());
  dr.upload(r.data());
  dy.poison();
  dgo.poison();
  dhp.poison();
  const std::string shape = shapeOf(M, N, offset);
  const char* entry = div_reads_variant_entry(div_reads_select_variant(dx.ptr(), dg.ptr(), dh.ptr(), dr.ptr(), dy.ptr(),
                                                                       dgo.ptr(), dhp.ptr(), M, N, C, D, Q));
  const bool aligned = offset == 0 && N % 4 == 0;
  expectVariant(entry, aligned ? "div_reads_aligned" : "div_reads", shape, check);
  if (launchAndWait(div_reads_launch(dx.ptr(), dg.ptr(), dh.ptr(), dr.ptr(), dy.ptr(), dgo.ptr(), dhp.ptr(), M, N, C, D, Q,
                                     g.stream),
                    check)) {
    dy.download(y.data());
    dgo.download(go.data());
    dhp.download(hp.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t e = size_t(i) * N + j;
        float gg = gv[size_t(i) * C + j / 8] * 2.0f;
        float hh = h[size_t(i) * D + (j / 64) * 11 + (j % 64) / 6];
        float rr = r[size_t(i / 4) * N + j];
        check.addBits(e, bitsOf(y[e]), bitsOf(((x[e] + gg) + hh) - rr));
      }
    for (size_t e = 0; e < ge; ++e) check.addBits(elems + e, bitsOf(go[e]), bitsOf(gv[e] * 2.0f));
    for (size_t e = 0; e < he; ++e) check.addBits(elems + ge + e, bitsOf(hp[e]), bitsOf(h[e] + 1.0f));
    if (!dy.guardsIntact() || !dgo.guardsIntact() || !dhp.guardsIntact()) check.fail("wrote outside Y, GO or HP");
    if (!dx.guardsIntact() || !dg.guardsIntact() || !dh.guardsIntact() || !dr.guardsIntact())
      check.fail("wrote outside an input");
  }
  Result res = untimedResult("div_reads", shape, check.passed(), entry ? entry : "?");
  res.maxErr = check.maxError();
  report(res);
}

void testStagedReads(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const int L = M + 1;
  const size_t elems = size_t(M) * N;
  std::vector<float> x(elems), u(size_t(M) * 8), w(L), v(M), y(elems);
  fillUniform(x, 89u + M + N);
  fillUniform(u, 97u + M);
  fillUniform(w, 101u + L);
  fillUniform(v, 103u + M);
  DeviceBuffer dx(elems * 4, offset), du(u.size() * 4, offset), dw(w.size() * 4, offset), dv(v.size() * 4, offset),
      dy(elems * 4, offset);
  dx.upload(x.data());
  du.upload(u.data());
  dw.upload(w.data());
  dv.upload(v.data());
  dy.poison();
  const std::string shape = shapeOf(M, N, offset);
  const char* entry = staged_reads_variant_entry(
      staged_reads_select_variant(dx.ptr(), du.ptr(), dw.ptr(), dv.ptr(), dy.ptr(), M, N, L));
  const bool aligned = offset == 0 && N % 4 == 0 && M % 4 == 0;  // M: the copies of U and V
  expectVariant(entry, aligned ? "staged_reads_aligned" : "staged_reads", shape, check);
  if (launchAndWait(staged_reads_launch(dx.ptr(), du.ptr(), dw.ptr(), dv.ptr(), dy.ptr(), M, N, L, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t e = size_t(i) * N + j;
        float v0 = v[size_t(i / 16 * 16)];
        float want = (x[e] + u[size_t(i) * 8 + j % 8]) - w[size_t(i) + 1];
        want = want + (v0 + 1.0f);
        want = want + ((v0 + 1.0f) + 1.0f);
        check.addBits(e, bitsOf(y[e]), bitsOf(want));
      }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact() || !du.guardsIntact() || !dw.guardsIntact() || !dv.guardsIntact())
      check.fail("wrote outside an input");
  }
  Result res = untimedResult("staged_reads", shape, check.passed(), entry ? entry : "?");
  res.maxErr = check.maxError();
  report(res);
}

}  // namespace

int main() {
  std::printf("# fragment_broadcast (a smaller fragment read in a larger Parallel loop) on %s\n", gpu().name.c_str());
  const VectorKernel kernels[] = {
      {"row_scale_frag", row_scale_frag_launch, row_scale_frag_select_variant, row_scale_frag_variant_entry, true, false,
       2.0f, 4},
      {"col_bias_frag", col_bias_frag_launch, col_bias_frag_select_variant, col_bias_frag_variant_entry, false, true,
       1.0f, 4},
      {"row_scale_direct", row_scale_direct_launch, row_scale_direct_select_variant, row_scale_direct_variant_entry, true,
       false, 1.0f, 1 << 30},
      {"row_scale_rolled", row_scale_rolled_launch, row_scale_rolled_select_variant, row_scale_rolled_variant_entry, true,
       false, 1.0f, 4},
      {"transposed_read", transposed_read_launch, transposed_read_select_variant, transposed_read_variant_entry, true,
       false, 1.0f, 4, true},
  };
  const int rows[] = {1, 17, 67, 64, 1009};
  const int cols[] = {1, 7, 131, 512, 1031};
  for (const VectorKernel& k : kernels)
    for (int M : rows)
      for (int N : cols) {
        testVector(k, M, N, 0);
        testVector(k, M, N, 8);
      }
  for (int M : rows)
    for (int N : {1, 64, 131}) {
      testRowOut(M, N, 0);
      testRowOut(M, N, 8);
    }
  for (int M : rows)
    for (int N : cols) {
      testDivReads(M, N, 0);
      testDivReads(M, N, 8);
      testStagedReads(M, N, 0);
      testStagedReads(M, N, 8);
    }
  return finish();
}
