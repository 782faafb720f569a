// cluster_mask: tests/gpu/kernels/cluster_mask.tl, copy_cluster with TileLang's meaning
// (issue 20 item 6) on the GPU.
//   multicast: clusters of 4 blocks along x, cluster_mask=0b0011: blocks 0 and 1 of a
//   cluster store block 0's tile of A (the multicast), blocks 2 and 3 their own: B
//   checked bit for bit against that reference, on the TMA variant (aligned, N % 8 ==
//   0) and on the general one (A 2 bytes off 16-byte alignment, or N odd), where block 1
//   copies block 0's tile out of its shared memory. Ragged M and N.
//   user_multicast: tma_copy(cluster_mask=0b0110) under the program's barrier: ranks
//   1 and 2 of each cluster of 4 store rank 1's tile, ranks 0 and 3 their own; bit for
//   bit, ragged M and N (N % 8 == 0: the one variant's tensor map), and a misaligned
//   A or N odd refused by the launcher.
//   ring: TileLang's multicast tma_copy ring (a cluster of 2, 4 slots, `iters`
//   tiles, a cluster barrier per iteration): both blocks' B hold every tile of A, bit
//   for bit, for 1, 3, 8 and 9 iterations (every slot under both parities).
//   push: block 0 of each 2-block cluster stores its tile of A into block 1's shared
//   tile under `if rank == 0` (no remote_barrier), ordered by the program's
//   cluster_sync(): block 1's rows of B are block 0's rows of A, block 0's are -1.
// Outputs poisoned first; the variant that ran checked.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cluster_mask.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void testMulticast(int M, int N, size_t offset, bool wantGeneral) {
  Gpu& g = gpu();
  Checker check;
  const int BN = 64;
  const size_t count = size_t(M) * N;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 13u * M + N);
  DeviceBuffer da(count * 2, offset), db(count * 2, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = multicast_variant_entry(multicast_select_variant(da.ptr(), db.ptr(), M, N));
  if (isGeneralEntry(entry, "multicast") != wantGeneral)
    check.fail(wantGeneral ? "multicast: not the general variant" : "multicast: not the TMA variant");
  if (launchAndWait(multicast_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        int bx = j / BN, rank = bx % 4;
        int from = rank <= 1 ? (bx - rank) * BN + j % BN : j;
        size_t k = size_t(i) * N + j;
        check.addBits(k, b[k], from < N ? a[size_t(i) * N + from] : uint16_t(0));
      }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "cluster_mask_multicast";
  r.shape = shapeString({M, N}, "fp16") + (offset ? " +2B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 4);
  if (check.passed()) r.ms = medianMs([&](int) { return multicast_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testUserMulticast(int M, int N, size_t offset, bool wantRefused) {
  Gpu& g = gpu();
  Checker check;
  const int BN = 64;
  const size_t count = size_t(M) * N;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 19u * M + N);
  DeviceBuffer da(count * 2, offset), db(count * 2, offset);
  da.upload(a.data());
  db.poison();
  CUresult launched = user_multicast_launch(da.ptr(), db.ptr(), M, N, g.stream);
  if (wantRefused) {
    if (launched == CUDA_SUCCESS) check.fail("user_multicast: the launcher ran what its tensor map cannot describe");
  } else if (launchAndWait(launched, check)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        int bx = j / BN, rank = bx % 4;
        int from = rank == 1 || rank == 2 ? (bx - rank + 1) * BN + j % BN : j;  // rank 1's column
        size_t k = size_t(i) * N + j;
        check.addBits(k, b[k], from < N ? a[size_t(i) * N + from] : uint16_t(0));
      }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = wantRefused ? "cluster_mask_user_multicast_refused" : "cluster_mask_user_multicast";
  r.shape = shapeString({M, N}, "fp16") + (offset ? " +2B" : "");
  r.variant = "user_multicast";
  r.bytes = double(count * 4);
  if (check.passed() && !wantRefused)
    r.ms = medianMs([&](int) { return user_multicast_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testRing(int iters) {
  Gpu& g = gpu();
  Checker check;
  const int T = 64;
  const size_t count = size_t(iters) * T * T;
  std::vector<float> a(count), b(2 * count);
  fillUniform(a, 23u * iters, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, 0), db(2 * count * 4, 0);
  da.upload(a.data());
  db.poison();
  if (launchAndWait(ring_launch(da.ptr(), db.ptr(), iters, g.stream), check)) {
    db.download(b.data());
    for (size_t rank = 0; rank < 2; ++rank)
      for (size_t e = 0; e < count; ++e) check.addBits(rank * count + e, bitsOf(b[rank * count + e]), bitsOf(a[e]));
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "cluster_mask_ring";
  r.shape = "iters=" + std::to_string(iters) + " 64x64 fp32";
  r.variant = "ring";
  r.bytes = double(count * 12);
  if (check.passed()) r.ms = medianMs([&](int) { return ring_launch(da.ptr(), db.ptr(), iters, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testPush(int M, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const int BM = 16, BN = 64;
  const size_t count = size_t(M) * BN;
  std::vector<float> a(count), b(count);
  fillUniform(a, 17u * M, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, offset), db(count * 4, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = push_variant_entry(push_select_variant(da.ptr(), db.ptr(), M));
  if (launchAndWait(push_launch(da.ptr(), db.ptr(), M, g.stream), check)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i) {
      int block = i / BM;
      for (int j = 0; j < BN; ++j) {
        size_t k = size_t(i) * BN + j;
        float want = block % 2 == 0 ? -1.0f : a[size_t((block - 1) * BM + i % BM) * BN + j];
        check.addBits(k, bitsOf(b[k]), bitsOf(want));
      }
    }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "cluster_mask_push";
  r.shape = shapeString({M, BN}, "fp32") + (offset ? " +4B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 8);
  if (check.passed()) r.ms = medianMs([&](int) { return push_launch(da.ptr(), db.ptr(), M, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  printVariants("cluster_mask multicast", multicast_variant_entry);
  printVariants("cluster_mask push", push_variant_entry);
  testMulticast(16, 256, 0, false);
  testMulticast(17, 264, 0, false);    // ragged: the last cluster's blocks past N
  testMulticast(1, 8, 0, false);
  testMulticast(1000, 1000, 0, false);
  testMulticast(40, 72, 2, true);      // misaligned: the general variant (DSMEM copy)
  testMulticast(33, 519, 0, true);     // N odd: the general variant
  testUserMulticast(16, 256, 0, false);
  testUserMulticast(17, 264, 0, false);  // ragged: rank 1's tile past N for the last cluster
  testUserMulticast(1, 8, 0, false);
  testUserMulticast(1000, 1000, 0, false);
  testUserMulticast(40, 72, 2, true);    // A 2 bytes off: no tensor map, refused
  testUserMulticast(33, 519, 0, true);   // N odd: refused
  for (int iters : {1, 3, 8, 9}) testRing(iters);
  testPush(16, 0);                     // block 1 has no rows
  testPush(32, 0);
  testPush(33, 0);
  testPush(100, 4);
  testPush(4096, 0);
  return finish();
}
