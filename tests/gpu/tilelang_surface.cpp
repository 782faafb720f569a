// tilelang_surface: issue 20's TileLang surface on the GPU (tests/gpu/kernels/tilelang_surface.tl):
// T. names, `with` without `as`, the default 128 threads, Kernel() as one block,
// alloc_var, run-time extents (copy slices, Parallel(min(n, 256)), a fill's tail, a
// Parallel loop over a run-time n in chunks of the threads), copy() of one element in
// a Parallel loop, nested Parallel loops with a triangular inner extent.
//
//   prefix_rows  B[r, j] = 2 A[r, j] + j % 3 (j < min(len, N, 256)), 7 (min(len, N) <= j),
//                untouched (256 <= j < min(len, N)); C = A
//   triangle     D[r, j] = (r % 8) * 10 + j (j <= r % 8), 0 (r % 8 < j < 8), untouched (j >= 8)
//   one_block    Y[i] = 2 X[i] (i < n), untouched past it; out[0] = X[0] + ... + X[n-1] in order
//
// Shapes: 1, primes, values of len below, at and past N and past the 256-element tile,
// n = 0, negative, and past the tensor (its reads give 0, its writes are skipped).
// Every output is poisoned first (0xFF bytes) and compared bit for bit, untouched
// elements included; the guard zones around every buffer must be intact; payloads 4
// bytes off 16-byte alignment too. Each kernel has one variant, the general one
// (isGeneralEntry).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tilelang_surface.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

constexpr uint32_t kUntouched = 0xFFFFFFFFu;  // DeviceBuffer::poison's bytes

uint32_t bitsOf(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

std::string shapeOf(std::initializer_list<long long> dims, const char* extra, size_t offset) {
  std::string s = shapeString(dims, "fp32");
  return s + extra + (offset ? " +" + std::to_string(offset) + "B" : "");
}

void checkGeneral(const char* entry, const char* kernel, const std::string& shape, Checker& check) {
  if (!isGeneralEntry(entry, kernel)) {
    std::fprintf(stderr, "    %s ran variant %s, not its general one\n", shape.c_str(), entry ? entry : "(none)");
    check.fail("wrong variant");
  }
}

void testPrefixRows(int M, int N, int len, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<float> a(elems), b(elems), c(elems);
  fillUniform(a, 101u + M * 13u + N + len);
  DeviceBuffer da(elems * 4, offset), db(elems * 4, offset), dc(elems * 4, offset);
  da.upload(a.data());
  db.poison();
  dc.poison();
  const std::string shape = shapeOf({M, N}, (" len=" + std::to_string(len)).c_str(), offset);
  const char* entry = prefix_rows_variant_entry(prefix_rows_select_variant(da.ptr(), db.ptr(), dc.ptr(), M, N, len));
  checkGeneral(entry, "prefix_rows", shape, check);
  if (launchAndWait(prefix_rows_launch(da.ptr(), db.ptr(), dc.ptr(), M, N, len, g.stream), check)) {
    db.download(b.data());
    dc.download(c.data());
    const int n = std::min(len, N);
    for (int r = 0; r < M; ++r)
      for (int j = 0; j < N; ++j) {
        size_t k = size_t(r) * N + j;
        uint32_t want = j >= n ? bitsOf(7.0f) : j < 256 ? bitsOf(a[k] * 2.0f + float(j % 3)) : kUntouched;
        check.addBits(k, bitsOf(b[k]), want);
        check.addBits(elems + k, bitsOf(c[k]), bitsOf(a[k]));
      }
    if (!db.guardsIntact() || !dc.guardsIntact()) check.fail("wrote outside B or C");
    if (!da.guardsIntact()) check.fail("wrote outside A");
  }
  report(untimedResult("prefix_rows", shape, check.passed(), entry ? entry : "?"));
}

void testTriangle(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<float> d(elems);
  DeviceBuffer dd(elems * 4, offset);
  dd.poison();
  const std::string shape = shapeOf({M, N}, "", offset);
  const char* entry = triangle_variant_entry(triangle_select_variant(dd.ptr(), M, N));
  checkGeneral(entry, "triangle", shape, check);
  if (launchAndWait(triangle_launch(dd.ptr(), M, N, g.stream), check)) {
    dd.download(d.data());
    for (int r = 0; r < M; ++r)
      for (int j = 0; j < N; ++j) {
        int i = r % 8;
        uint32_t want = j >= 8 ? kUntouched : j <= i ? bitsOf(float(i * 10 + j)) : bitsOf(0.0f);
        check.addBits(size_t(r) * N + j, bitsOf(d[size_t(r) * N + j]), want);
      }
    if (!dd.guardsIntact()) check.fail("wrote outside D");
  }
  report(untimedResult("triangle", shape, check.passed(), entry ? entry : "?"));
}

void testOneBlock(int L, int n, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> x(L), y(L);
  float out = 0;
  fillUniform(x, 211u + L * 7u + uint32_t(n + 10));
  DeviceBuffer dx(size_t(L) * 4, offset), dy(size_t(L) * 4, offset), dout(4, offset);
  dx.upload(x.data());
  dy.poison();
  dout.poison();
  const std::string shape = shapeOf({L}, (" n=" + std::to_string(n)).c_str(), offset);
  const char* entry = one_block_variant_entry(one_block_select_variant(dx.ptr(), dy.ptr(), dout.ptr(), L, n));
  checkGeneral(entry, "one_block", shape, check);
  if (launchAndWait(one_block_launch(dx.ptr(), dy.ptr(), dout.ptr(), L, n, g.stream), check)) {
    dy.download(y.data());
    dout.download(&out);
    float sum = 0;  // in order; reads past L give 0
    for (int k = 0; k < n; ++k) sum += k < L ? x[k] : 0.0f;
    for (int i = 0; i < L; ++i) check.addBits(size_t(i), bitsOf(y[i]), i < n ? bitsOf(x[i] * 2.0f) : kUntouched);
    check.addBits(size_t(L), bitsOf(out), bitsOf(sum));
    if (!dy.guardsIntact() || !dout.guardsIntact()) check.fail("wrote outside Y or out");
    if (!dx.guardsIntact()) check.fail("wrote outside X");
  }
  report(untimedResult("one_block", shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  std::printf("# tilelang_surface (TileLang-style kernels: T. names, run-time extents) on %s\n", gpu().name.c_str());
  for (size_t offset : {size_t(0), size_t(4)}) {
    const int shapes[][3] = {{1, 1, 1},   {1, 1, 0},    {5, 200, 77},  {3, 256, 300}, {7, 131, 131},
                             {2, 9, 4},   {4, 1000, 700}, {3, 1000, 5000}, {17, 257, 256}, {2, 37, -5}};
    for (const auto& s : shapes) testPrefixRows(s[0], s[1], s[2], offset);
    const int tri[][2] = {{1, 1}, {8, 8}, {13, 11}, {29, 8}, {1, 9}, {131, 17}};
    for (const auto& s : tri) testTriangle(s[0], s[1], offset);
    const int ob[][2] = {{1, 1}, {1, 0}, {127, 127}, {128, 128}, {1000, 999}, {1009, 1014}, {300, -3}, {7, 3}};
    for (const auto& s : ob) testOneBlock(s[0], s[1], offset);
  }
  return finish();
}
