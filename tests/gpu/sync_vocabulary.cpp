// sync_vocabulary: tests/gpu/kernels/sync_vocabulary.tl, float32, TileLang's explicit
// synchronisation vocabulary on the GPU.
//   ring: a producer and a consumer warp group hand 128-element chunks of each row of
//   A through a two-stage shared ring guarded by a barrier array (bars[stage] full,
//   bars[2 + stage] empty, run-time indices), mbarrier_arrive, barrier_wait and
//   mbarrier_wait_parity(mbar=, parity=) with flipping parities: B = 2 A + 1, bit for
//   bit, only when every chunk was waited for (N ragged: 1, one chunk, many laps).
//   swap: each block of a 2-block cluster writes 2 A of its rows to W, cluster_arrive(),
//   C = A + 1, cluster_wait(), then copies its partner's rows of W into B: B = 2 A of
//   the partner's rows (0 past M) only when the split cluster barrier held.
//   tma_ring: row blocks of A (fp16) through a two-stage ring that tma_load fills on the
//   run-time element bars[stage] of a barrier array: B = A bit for bit (M ragged).
//   remote: swap's exchange through the partner block's barrier instead of the cluster
//   barrier (mbarrier_arrive(got[0], cta_id), waits acquiring at cluster scope).
// Outputs poisoned first; misaligned bases on one shape (ring, swap); the variant checked.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "sync_vocabulary.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void testRing(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<float> a(count), b(count);
  fillUniform(a, 7u * M + N, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, offset), db(count * 4, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = ring_variant_entry(ring_select_variant(da.ptr(), db.ptr(), M, N));
  if (!isGeneralEntry(entry, "ring")) check.fail("ring: not its one (general) variant");
  if (launchAndWait(ring_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, bitsOf(b[i]), bitsOf(a[i] * 2.0f + 1.0f));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "sync_vocabulary_ring";
  r.shape = shapeString({M, N}, "fp32") + (offset ? " +4B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 8);
  if (check.passed()) r.ms = medianMs([&](int) { return ring_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testSwap(int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const int BM = 16;
  const size_t count = size_t(M) * N;
  std::vector<float> a(count), b(count), c(count);
  fillUniform(a, 13u * M + N, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, offset), dw(count * 4, offset), db(count * 4, offset), dc(count * 4, offset);
  da.upload(a.data());
  dw.poison();
  db.poison();
  dc.poison();
  const char* entry = swap_variant_entry(swap_select_variant(da.ptr(), dw.ptr(), db.ptr(), dc.ptr(), M, N));
  if (!isGeneralEntry(entry, "swap")) check.fail("swap: not its one (general) variant");
  if (launchAndWait(swap_launch(da.ptr(), dw.ptr(), db.ptr(), dc.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    dc.download(c.data());
    for (int r = 0; r < M; ++r) {
      int partnerRow = ((r / BM) ^ 1) * BM + r % BM;
      for (int j = 0; j < N; ++j) {
        size_t i = size_t(r) * N + j;
        float want = partnerRow < M ? a[size_t(partnerRow) * N + j] * 2.0f : 0.0f;
        check.addBits(i, bitsOf(b[i]), bitsOf(want));
        check.addBits(count + i, bitsOf(c[i]), bitsOf(a[i] + 1.0f));
      }
    }
    if (!db.guardsIntact() || !dc.guardsIntact() || !dw.guardsIntact()) check.fail("wrote outside W, B or C");
  }
  Result r;
  r.name = "sync_vocabulary_swap";
  r.shape = shapeString({M, N}, "fp32") + (offset ? " +4B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 16);
  if (check.passed())
    r.ms = medianMs([&](int) { return swap_launch(da.ptr(), dw.ptr(), db.ptr(), dc.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testRemote(int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const int BM = 16;
  const size_t count = size_t(M) * N;
  std::vector<float> a(count), b(count);
  fillUniform(a, 19u * M + N, -8.0f, 8.0f);
  DeviceBuffer da(count * 4), dw(count * 4), db(count * 4);
  da.upload(a.data());
  dw.poison();
  db.poison();
  const char* entry = remote_variant_entry(remote_select_variant(da.ptr(), dw.ptr(), db.ptr(), M, N));
  if (!isGeneralEntry(entry, "remote")) check.fail("remote: not its one (general) variant");
  if (launchAndWait(remote_launch(da.ptr(), dw.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (int r = 0; r < M; ++r) {
      int partnerRow = ((r / BM) ^ 1) * BM + r % BM;
      for (int j = 0; j < N; ++j) {
        size_t i = size_t(r) * N + j;
        check.addBits(i, bitsOf(b[i]), bitsOf(partnerRow < M ? a[size_t(partnerRow) * N + j] * 2.0f : 0.0f));
      }
    }
    if (!db.guardsIntact() || !dw.guardsIntact()) check.fail("wrote outside W or B");
  }
  Result r;
  r.name = "sync_vocabulary_remote";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 12);
  if (check.passed())
    r.ms = medianMs([&](int) { return remote_launch(da.ptr(), dw.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testTmaRing(int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 17u * M + N);
  DeviceBuffer da(count * 2), db(count * 2);
  da.upload(a.data());
  db.poison();
  const char* entry = tma_ring_variant_entry(tma_ring_select_variant(da.ptr(), db.ptr(), M, N));
  if (!isGeneralEntry(entry, "tma_ring")) check.fail("tma_ring: not its one variant");
  if (launchAndWait(tma_ring_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "sync_vocabulary_tma_ring";
  r.shape = shapeString({M, N}, "fp16");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 4);
  if (check.passed()) r.ms = medianMs([&](int) { return tma_ring_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  printVariants("sync_vocabulary ring", ring_variant_entry);
  printVariants("sync_vocabulary swap", swap_variant_entry);
  printVariants("sync_vocabulary tma_ring", tma_ring_variant_entry);
  printVariants("sync_vocabulary remote", remote_variant_entry);
  testRing(1, 1, 0);
  testRing(3, 127, 0);
  testRing(2, 128, 0);
  testRing(5, 643, 4);     // ragged, laps of the ring, misaligned bases
  testRing(67, 4099, 0);   // many laps
  testSwap(1, 1, 0);       // the partner block has no rows
  testSwap(17, 65, 0);     // ragged
  testSwap(32, 64, 0);     // one cluster, exact
  testSwap(45, 131, 4);    // ragged, misaligned bases
  testSwap(1000, 1000, 0);
  testTmaRing(1, 8);       // one partial row block
  testTmaRing(37, 136);    // ragged M, laps of the ring
  testTmaRing(130, 8);
  testTmaRing(1000, 1000);
  testRemote(1, 1);
  testRemote(17, 65);
  testRemote(45, 131);
  testRemote(1000, 1000);
  return finish();
}
