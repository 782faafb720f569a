// layout_safe_value: tests/gpu/kernels/layout_safe_value.tl.
//
// shifted: B[r, c] = A[r, c + 1] + 0.5 * A[r, c - 1] + 0.25 * A[r + 1, c] with -1 for
// every read outside A (annotate_safe_value), so the right, left and bottom edges of
// every shape (ragged or not) show the -1. The scalings are exact, so the reference
// (same order of float additions) is exact whether or not the GPU fuses them.
// strips_shared: B = A through a shared tile, copied in following layout L (cp.async)
// and out following the transposed layout T: exact.
// rows_vec: B = 2 * A in float16 through a layout with 8-element runs per thread
// (16-byte vectors in the aligned variant). A's elements are normal fp16 numbers with
// exponent fields 1..29, so doubling adds 1 to the exponent field: exact, compared
// bit for bit.
// B is poisoned first and its guards checked after.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "layout_safe_value.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShifted(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(float);
  Checker check;  // exact

  std::vector<float> a(count), b(count);
  fillUniform(a, 29u * M + N);
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();
  auto at = [&](long r, long c) -> float { return r < 0 || c < 0 || r >= M || c >= N ? -1.0f : a[size_t(r) * N + c]; };

  const int variant = shifted_select_variant(da.ptr(), db.ptr(), M, N);
  const char* entry = shifted_variant_entry(variant);
  int edgeValues = 0;  // outputs that depend on a -1 read
  if (launchAndWait(shifted_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (long r = 0; r < M; ++r)
      for (long c = 0; c < N; ++c) {
        float want = at(r, c + 1) + at(r, c - 1) * 0.5f;
        want = want + at(r + 1, c) * 0.25f;
        edgeValues += (c + 1 >= N) || c == 0 || (r + 1 >= M);
        check.add(size_t(r) * N + c, b[size_t(r) * N + c], double(want));
      }
    if (!db.guardsIntact()) check.fail("wrote outside B");
    if (edgeValues == 0) check.fail("no output depends on the safe value");
  }

  Result r;
  r.name = "layout_safe_value shifted";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int) { return shifted_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testStripsShared(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(float);
  Checker check;

  std::vector<float> a(count), b(count);
  fillUniform(a, 31u * M + N);
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();

  const int variant = strips_shared_select_variant(da.ptr(), db.ptr(), M, N);
  const char* entry = strips_shared_variant_entry(variant);
  if (launchAndWait(strips_shared_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.add(i, b[i], double(a[i]));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }

  Result r;
  r.name = "layout_safe_value strips_shared";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int) { return strips_shared_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testRowsVec(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N), bytes = count * sizeof(uint16_t);
  Checker check;

  std::vector<uint16_t> a(count), b(count);
  uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t(M) << 32) ^ uint64_t(N);
  for (auto& x : a) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = uint32_t(state >> 33);
    uint16_t sign = uint16_t((r & 1u) << 15), exponent = uint16_t(1 + (r >> 1) % 29), mantissa = uint16_t((r >> 6) & 0x3FFu);
    x = uint16_t(sign | (exponent << 10) | mantissa);
  }
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();

  const int variant = rows_vec_select_variant(da.ptr(), db.ptr(), M, N);
  const char* entry = rows_vec_variant_entry(variant);
  if (launchAndWait(rows_vec_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], uint16_t(a[i] + (1u << 10)));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }

  Result r;
  r.name = "layout_safe_value rows_vec";
  r.shape = shapeString({M, N}, "fp16");
  r.variant = entry ? entry : "?";
  r.bytes = 2.0 * bytes;
  if (check.passed())
    r.ms = medianMs([&](int) { return rows_vec_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# layout_safe_value on %s\n", gpu().name.c_str());
  for (auto [M, N] : {std::pair{1000, 999}, {33, 31}, {1, 1}, {64, 96}, {4096, 4096}}) {
    testShifted(M, N);
    testStripsShared(M, N);
    testRowsVec(M, N);
  }
  testRowsVec(4096, 4104);  // N % 8 == 0 but not a multiple of the tile: the vector variant at a ragged edge
  return finish();
}
