// fragment_part: copies of part of a fragment and of single fragment elements
// (tests/gpu/kernels/fragment_part.tl), bit-exact on ragged shapes with random data and
// poisoned outputs. Per 16x64 block tile: f = A's tile, rows 0..8 from C (a global
// region into part of f), rows 8..16 / columns 32..64 through a shared tile, f[3, 5] =
// C[0, 0] (a direct load by its owner), fill(f[12:14, 0:8], 1.5) and clear(f[1, 40:64])
// (fills of part of f), D[1] = block (0, 0)'s f[15, 63] (a direct
// store), B = f, and E = f's rows 4..12 / columns 16..48 (part of f to global).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "fragment_part.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N) {
  Gpu& g = gpu();
  const size_t n = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint32_t> a(n), c(n);
  fillRandomBits(a, 211u * M + N);
  fillRandomBits(c, 223u * M + N);
  DeviceBuffer dA(n * 4), dB(n * 4), dC(n * 4), dD(8), dE(n * 4);
  dA.upload(a.data());
  dC.upload(c.data());
  for (DeviceBuffer* out : {&dB, &dD, &dE}) out->poison();
  const uint32_t poison = 0xFFFFFFFFu;  // DeviceBuffer::poison's payload
  std::vector<uint32_t> b(n, poison), e(n, poison), d(2, poison);
  auto at = [&](const std::vector<uint32_t>& x, long i, long j) { return i < M && j < N ? x[size_t(i) * N + j] : 0u; };
  for (long by = 0; by < (M + 15) / 16; ++by)
    for (long bx = 0; bx < (N + 63) / 64; ++bx) {
      uint32_t f[16][64];
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 64; ++j) {
          long gi = by * 16 + i, gj = bx * 64 + j;
          f[i][j] = i < 8 ? at(c, gi, gj) : j >= 32 ? at(c, gi, gj) : at(a, gi, gj);
        }
      f[3][5] = c[0];
      for (int i = 12; i < 14; ++i)
        for (int j = 0; j < 8; ++j) f[i][j] = 0x3FC00000u;  // 1.5f
      for (int j = 40; j < 64; ++j) f[1][j] = 0u;         // +0.0f
      if (bx == 0 && by == 0) d[1] = f[15][63];
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 64; ++j) {
          long gi = by * 16 + i, gj = bx * 64 + j;
          if (gi >= M || gj >= N) continue;
          b[size_t(gi) * N + gj] = f[i][j];
          if (i >= 4 && i < 12 && j >= 16 && j < 48) e[size_t(gi) * N + gj] = f[i][j];
        }
    }
  const char* entry = part_variant_entry(part_select_variant(dA.ptr(), dB.ptr(), dC.ptr(), dD.ptr(), dE.ptr(), M, N));
  if (launchAndWait(part_launch(dA.ptr(), dB.ptr(), dC.ptr(), dD.ptr(), dE.ptr(), M, N, g.stream), check)) {
    checkBitExact(check, dB, b, "B", dA, "A");
    checkBitExact(check, dE, e, "E", dC, "C");
    checkBitExact(check, dD, d, "D", dA, "A");
  }
  report(untimedResult("fragment_part", shapeString({M, N}, "fp32"), check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  printVariants("fragment_part", part_variant_entry);
  testShape(37, 131);
  testShape(16, 64);
  testShape(1, 8);
  testShape(48, 200);
  testShape(1000, 1000);
  return finish();
}
