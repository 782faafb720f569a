// cluster_exchange: tests/gpu/kernels/cluster_exchange.tl, float32. Each block of a
// 2-block cluster copies its tile into its partner's shared memory
// (copy_cluster(dst_block=), distributed shared memory through mapa) and stores the
// tile it received at the rows it came from, so B = A bit for bit only when every
// tile crossed over; R[bx] = block_rank_in_cluster() = bx % 2, written after a
// cluster_sync(). Outputs poisoned first; ragged shapes; aligned (the 16-byte
// variant) and N odd (the general one).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cluster_exchange.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  const int P = 2 * ((M + 63) / 64);  // the grid's x extent: one rank per block
  std::vector<uint32_t> a(count), b(count);
  std::vector<int32_t> ranks(P);
  fillRandomBits(a, 11u * M + N);
  DeviceBuffer da(count * 4), db(count * 4), dr(size_t(P) * 4);
  da.upload(a.data());
  db.poison();
  dr.poison();
  const char* entry = exchange_variant_entry(exchange_select_variant(da.ptr(), db.ptr(), dr.ptr(), M, N, P));
  if (launchAndWait(exchange_launch(da.ptr(), db.ptr(), dr.ptr(), M, N, P, g.stream), check)) {
    db.download(b.data());
    dr.download(ranks.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    for (int x = 0; x < P; ++x) check.addBits(count + x, uint32_t(ranks[x]), uint32_t(x % 2));
    if (!db.guardsIntact()) check.fail("wrote outside B");
    if (!dr.guardsIntact()) check.fail("wrote outside R");
  }
  Result r;
  r.name = "cluster_exchange";
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 8);
  if (check.passed())
    r.ms = medianMs([&](int) { return exchange_launch(da.ptr(), db.ptr(), dr.ptr(), M, N, P, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# cluster_exchange on %s (cluster %ux%ux%u)\n", gpu().name.c_str(), exchange_info(0)->cluster[0],
              exchange_info(0)->cluster[1], exchange_info(0)->cluster[2]);
  testShape(64, 64);      // one cluster
  testShape(100, 200);    // ragged
  testShape(1000, 1000);  // ragged, many clusters
  testShape(333, 257);    // N odd: general variant
  testShape(4096, 4096);
  return finish();
}
