// loop_kinds: tests/gpu/kernels/loop_kinds.tl, TileLang's loop forms (issue 20 item 8)
// on the GPU.
//   pipe: Pipelined(1, ceildiv(N, 64), order=, stage=) (a start, TileLang's manual
//   schedule; TMA loads one stage ahead in the fast variant): B = A in column tile 0,
//   2 A elsewhere, bit for bit (fp16 doubling is exact), on the TMA variant and the
//   general one (N odd).
//   vec: vectorized(8) loads and unroll(0, 8) stores through a local buffer: B = 3 A.
// Outputs poisoned first; ragged shapes; the variant checked.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "loop_kinds.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// fp16 x + x, exact: one more in the exponent (finite inputs of fillRandomBits'
// halves that stay finite are compared; an input whose double overflows becomes inf).
uint16_t twice(uint16_t h) {
  uint16_t e = (h >> 10) & 0x1f;
  if (e == 0x1f) return h;                                     // inf / NaN stay (NaN quieted below)
  if (e == 0) {                                                // subnormal: the mantissa doubles
    uint16_t m = h & 0x3ff, s = h & 0x8000;
    return uint16_t(s | (m << 1));                             // may carry into the exponent: still exact
  }
  if (e == 0x1e) return uint16_t((h & 0x8000) | 0x7c00);       // overflow to inf
  return uint16_t(h + 0x400);
}

void testPipe(int M, int N, bool wantGeneral) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 23u * M + N);
  for (auto& x : a)
    if (((x >> 10) & 0x1f) == 0x1f) x &= 0xfbff;  // no inf / NaN inputs
  DeviceBuffer da(count * 2), db(count * 2);
  da.upload(a.data());
  db.poison();
  const char* entry = pipe_variant_entry(pipe_select_variant(da.ptr(), db.ptr(), M, N));
  if (isGeneralEntry(entry, "pipe") != wantGeneral)
    check.fail(wantGeneral ? "pipe: not the general variant" : "pipe: not the TMA variant");
  if (launchAndWait(pipe_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], int(i % size_t(N)) < 64 ? a[i] : twice(a[i]));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "loop_kinds_pipe";
  r.shape = shapeString({M, N}, "fp16");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 4);
  if (check.passed()) r.ms = medianMs([&](int) { return pipe_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testVec(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<float> a(count), b(count);
  fillUniform(a, 29u * M + N, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, offset), db(count * 4, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = vec_variant_entry(vec_select_variant(da.ptr(), db.ptr(), M, N));
  if (launchAndWait(vec_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, bitsOf(b[i]), bitsOf(a[i] * 3.0f));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "loop_kinds_vec";
  r.shape = shapeString({M, N}, "fp32") + (offset ? " +4B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 8);
  if (check.passed()) r.ms = medianMs([&](int) { return vec_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  printVariants("loop_kinds pipe", pipe_variant_entry);
  testPipe(16, 64, false);     // tile 0 only: the Pipelined loop runs no iteration
  testPipe(17, 200, false);    // ragged
  testPipe(1, 8, false);
  testPipe(40, 72, false);
  testPipe(1000, 1000, false);
  testPipe(33, 521, true);     // N odd: the general variant
  testVec(1, 1, 0);
  testVec(130, 13, 0);
  testVec(128, 8, 4);
  testVec(1000, 1000, 0);
  return finish();
}
