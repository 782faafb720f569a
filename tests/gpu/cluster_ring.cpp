// cluster_ring: tests/gpu/kernels/cluster_ring.tl, float32, clusters of TLC_CLUSTER
// blocks (2, or 4 with -D CL=4). Each block passes tiles round the ring of its
// cluster with copy_cluster(dst_block=(rank + 1) % CL, remote_barrier=got) for
// CL - 1 rounds, waiting on its own barrier each round (parity 0, 1, 0, ...), and
// stores the tile it ends with at the rows it came from: B = A bit for bit only
// when every round delivered every tile. Three kernels: ring_bulk (one bulk DSMEM
// copy), ring_rows (a bulk copy per row: a padded source), ring_simt (remote
// stores + remote arrive: a swizzled tile on one side). Output poisoned first;
// ragged shapes; N odd runs the general variant.
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cluster_ring.h"
#endif
#include TLC_KERNEL_HEADER

#ifndef TLC_CLUSTER
#define TLC_CLUSTER 2
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "cluster_ring"
#endif

using namespace gpu_test;

namespace {

using Launch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using Select = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);
using Entry = const char* (*)(int);

struct Kernel {
  const char* name;
  Launch launch;
  Select select;
  Entry entry;
};

void testShape(const Kernel& k, int M, int N) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(M) * N;
  std::vector<uint32_t> a(count), b(count);
  fillRandomBits(a, 7u * M + N + 1000u * TLC_CLUSTER);
  DeviceBuffer da(count * 4), db(count * 4);
  da.upload(a.data());
  db.poison();
  const char* entry = k.entry(k.select(da.ptr(), db.ptr(), M, N));
  if (launchAndWait(k.launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = std::string(TLC_TEST_NAME) + "/" + k.name;
  r.shape = shapeString({M, N}, "fp32");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 8);
  if (check.passed()) r.ms = medianMs([&](int) { return k.launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# %s on %s (cluster %ux%ux%u)\n", TLC_TEST_NAME, gpu().name.c_str(), ring_bulk_info(0)->cluster[0],
              ring_bulk_info(0)->cluster[1], ring_bulk_info(0)->cluster[2]);
  if (ring_bulk_info(0)->cluster[0] != TLC_CLUSTER) {
    std::printf("cluster of %u blocks, expected %d\n", ring_bulk_info(0)->cluster[0], TLC_CLUSTER);
    return 1;
  }
  const Kernel kernels[] = {
      {"ring_bulk", ring_bulk_launch, ring_bulk_select_variant, ring_bulk_variant_entry},
      {"ring_rows", ring_rows_launch, ring_rows_select_variant, ring_rows_variant_entry},
      {"ring_simt", ring_simt_launch, ring_simt_select_variant, ring_simt_variant_entry},
  };
  for (const Kernel& k : kernels) {
    testShape(k, 32 * TLC_CLUSTER, 64);  // one cluster, whole tiles
    testShape(k, 100, 200);              // ragged: blocks past the end send zeros
    testShape(k, 1000, 1000);            // ragged, many clusters
    testShape(k, 333, 257);              // N odd: the general variant
    testShape(k, 4096, 4096);
  }
  return finish();
}
