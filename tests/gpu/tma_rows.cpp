// tma_rows: tests/gpu/kernels/tma_rows.tl, tma_copy beyond one tensor-map box (issue 20
// item 5) on the GPU.
//   rows: 1024-float32 rows, each one plain cp.async.bulk load and store where it lies
//   inside A / B, the tensor map in pieces of 256 at the ragged end: B = A bit for bit.
//   flat: a rank-1 float16 tensor in runs of 1000 (2000-byte bulk copies; pieces of
//   256 and 232 at the end): B = A.
//   shifted: rows starting at a run-time column `off`: bulk when off % 4 == 0, the
//   tensor-map pieces when the start is not 16-byte aligned: B = A[:, off:off + 1024],
//   zeros past N.
//   halves: tma_copy into and out of the two halves of one shared tile: B's row blocks
//   of 8 are A's swapped in pairs (zeros where the partner block is past M).
// Outputs poisoned first; ragged shapes; the one variant checked; a misaligned base
// refused by the launcher (tma_copy has no fallback) with nothing written.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tma_rows.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void finishResult(const char* name, const std::string& shape, const char* entry, double bytes, Checker& check,
                  const std::function<CUresult()>& launch) {
  Result r;
  r.name = name;
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = bytes;
  if (check.passed()) r.ms = medianMs([&](int) { return launch(); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testRows(int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<uint32_t> a(count), b(count);
  fillRandomBits(a, 3u * M + N);
  DeviceBuffer da(count * 4), db(count * 4);
  da.upload(a.data());
  db.poison();
  const char* entry = rows_variant_entry(rows_select_variant(da.ptr(), db.ptr(), M, N));
  if (!isGeneralEntry(entry, "rows")) check.fail("rows: not its one variant");
  if (launchAndWait(rows_launch(da.ptr(), db.ptr(), M, N, g.stream), check, tma_rows_last_error)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult("tma_rows_rows", shapeString({M, N}, "fp32"), entry, double(count * 8), check,
               [&] { return rows_launch(da.ptr(), db.ptr(), M, N, g.stream); });
}

void testFlat(int N) {
  Gpu& g = gpu();
  Checker check;
  std::vector<uint16_t> a(static_cast<size_t>(N)), b(static_cast<size_t>(N));
  fillRandomBits(a, 5u * N);
  DeviceBuffer da(size_t(N) * 2), db(size_t(N) * 2);
  da.upload(a.data());
  db.poison();
  const char* entry = flat_variant_entry(flat_select_variant(da.ptr(), db.ptr(), N));
  if (!isGeneralEntry(entry, "flat")) check.fail("flat: not its one variant");
  if (launchAndWait(flat_launch(da.ptr(), db.ptr(), N, g.stream), check, tma_rows_last_error)) {
    db.download(b.data());
    for (size_t i = 0; i < size_t(N); ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult("tma_rows_flat", shapeString({N}, "fp16"), entry, double(N) * 4, check,
               [&] { return flat_launch(da.ptr(), db.ptr(), N, g.stream); });
}

void testShifted(int M, int N, int off) {
  Gpu& g = gpu();
  Checker check;
  std::vector<uint32_t> a(size_t(M) * N), b(size_t(M) * 1024);
  fillRandomBits(a, 7u * M + N + off);
  DeviceBuffer da(a.size() * 4), db(b.size() * 4);
  da.upload(a.data());
  db.poison();
  const char* entry = shifted_variant_entry(shifted_select_variant(da.ptr(), db.ptr(), M, N, off));
  if (!isGeneralEntry(entry, "shifted")) check.fail("shifted: not its one variant");
  if (launchAndWait(shifted_launch(da.ptr(), db.ptr(), M, N, off, g.stream), check, tma_rows_last_error)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < 1024; ++j) {
        size_t k = size_t(i) * 1024 + j;
        check.addBits(k, b[k], off + j < N ? a[size_t(i) * N + off + j] : 0u);
      }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult("tma_rows_shifted", shapeString({M, N, off}, "fp32"), entry, double(M) * 8192, check,
               [&] { return shifted_launch(da.ptr(), db.ptr(), M, N, off, g.stream); });
}

void testHalves(int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<uint32_t> a(count), b(count);
  fillRandomBits(a, 11u * M + N);
  DeviceBuffer da(count * 4), db(count * 4);
  da.upload(a.data());
  db.poison();
  const char* entry = halves_variant_entry(halves_select_variant(da.ptr(), db.ptr(), M, N));
  if (!isGeneralEntry(entry, "halves")) check.fail("halves: not its one variant");
  if (launchAndWait(halves_launch(da.ptr(), db.ptr(), M, N, g.stream), check, tma_rows_last_error)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i) {
      int partner = ((i / 8) ^ 1) * 8 + i % 8;
      for (int j = 0; j < N; ++j)
        check.addBits(size_t(i) * N + j, b[size_t(i) * N + j], partner < M ? a[size_t(partner) * N + j] : 0u);
    }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult("tma_rows_halves", shapeString({M, N}, "fp32"), entry, double(count * 8), check,
               [&] { return halves_launch(da.ptr(), db.ptr(), M, N, g.stream); });
}

void testPerWarp(int M) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> a(size_t(M) * 1024), b(static_cast<size_t>(M));
  fillUniform(a, 37u * M, -8.0f, 8.0f);
  DeviceBuffer da(a.size() * 4), db(b.size() * 4);
  da.upload(a.data());
  db.poison();
  const char* entry = per_warp_variant_entry(per_warp_select_variant(da.ptr(), db.ptr(), M));
  if (launchAndWait(per_warp_launch(da.ptr(), db.ptr(), M, g.stream), check, tma_rows_last_error)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i) {
      float want = a[size_t(i) * 1024] + a[size_t(i) * 1024 + 1023];
      uint32_t got, ref;
      std::memcpy(&got, &b[size_t(i)], 4);
      std::memcpy(&ref, &want, 4);
      check.addBits(size_t(i), got, ref);
    }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult("tma_rows_per_warp", shapeString({M, 1024}, "fp32"), entry, double(M) * 4096, check,
               [&] { return per_warp_launch(da.ptr(), db.ptr(), M, g.stream); });
}

// A base 4 bytes off 16: refused before anything runs, B untouched.
void testRefused() {
  Gpu& g = gpu();
  Checker check;
  const int M = 3, N = 1024;
  DeviceBuffer da(size_t(M) * N * 4, 4), db(size_t(M) * N * 4);
  std::vector<uint32_t> a(size_t(M) * N), b(size_t(M) * N);
  fillRandomBits(a, 99);
  da.upload(a.data());
  db.poison();
  CUresult launched = rows_launch(da.ptr(), db.ptr(), M, N, g.stream);
  if (launched != CUDA_ERROR_INVALID_VALUE) check.fail("a misaligned A was not refused");
  cuStreamSynchronize(g.stream);
  if (!db.untouchedSincePoison()) check.fail("B written although the launch was refused");
  Result r;
  r.name = "tma_rows_refused";
  r.shape = "3x1024 fp32 A+4B";
  r.variant = "-";
  r.pass = check.passed();
  report(r);
}

}  // namespace

int main() {
  printVariants("tma_rows rows", rows_variant_entry);
  testRows(1, 1024);
  testRows(3, 1028);   // the second block's row runs past N: tensor-map pieces
  testRows(2, 2052);
  testRows(1, 4);
  testRows(97, 3000);
  testRows(4096, 4096);
  testFlat(1000);
  testFlat(999);
  testFlat(1);
  testFlat(2001);
  testFlat(1 << 20);
  testShifted(3, 1032, 0);
  testShifted(3, 1032, 4);
  testShifted(3, 1032, 1);  // misaligned start: the pieces
  testShifted(2, 1100, 3);
  testShifted(1, 2048, 1000);
  testHalves(16, 64);
  testHalves(17, 68);
  testHalves(5, 128);
  testHalves(40, 132);
  testHalves(1000, 1000);
  testPerWarp(1);
  testPerWarp(4);
  testPerWarp(13);
  testPerWarp(4099);
  testRefused();
  return finish();
}
