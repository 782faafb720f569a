// seed_rows: the seed rows that were compile-only (tests/gpu/kernels/seed_rows.tl):
// async_copy, cp_async_gs, tma_copy with leader_scope_threads / eviction_policy and a
// tma_store_wait(read=False), copy_cluster with eviction_policy / coalesced_width /
// loop_layout / annotations. Each copies float16 A (or W) to B (or to both halves
// of C, one per block of the cluster) through a shared tile; random data, poisoned
// outputs, bit-exact element by element, guards intact. Ragged M (1, 17, 33, 1009)
// and N (1, 7, 131: general variants; 8, 72, 136, 256); 8 bytes off alignment runs
// the general variant where there is one (checked by name). gs_tile and
// tma_leader_store have one variant each, which needs N % 8 == 0 and 16-byte
// aligned pointers: they run on such shapes only.
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "seed_rows.h"
#endif
#include TLC_KERNEL_HEADER

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
  int copies;        // output copies of the input: 1 (B), 2 (C[0], C[1])
  bool oneVariant;   // needs N % 8 == 0 and aligned pointers
};

void fill(std::vector<uint16_t>& v, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 7;
  for (uint16_t& h : v) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    h = uint16_t(x & 0x7BFF);  // finite halves of either sign bit pattern
  }
}

void test(const Kernel& k, int M, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const size_t elems = size_t(M) * N;
  std::vector<uint16_t> a(elems), out(elems * size_t(k.copies));
  fill(a, uint32_t(M * 31 + N));
  DeviceBuffer da(elems * 2, offset), dout(out.size() * 2, offset);
  da.upload(a.data());
  dout.poison();
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + " fp16" + (offset ? " +" + std::to_string(offset) + "B" : "");
  const char* entry = k.entry(k.select(da.ptr(), dout.ptr(), M, N));
  if (!k.oneVariant) {
    bool aligned = offset == 0 && N % 8 == 0;
    std::string want = std::string(k.name) + (aligned ? "_aligned" : "");
    expectVariant(entry, want.c_str(), shape, check);
  }
  if (launchAndWait(k.launch(da.ptr(), dout.ptr(), M, N, g.stream), check)) {
    dout.download(out.data());
    for (int c = 0; c < k.copies; ++c)
      for (size_t i = 0; i < elems; ++i) check.addBits(size_t(c) * elems + i, out[size_t(c) * elems + i], a[i]);
    if (!dout.guardsIntact()) check.fail("wrote outside the output");
    if (!da.guardsIntact()) check.fail("wrote outside the input");
  }
  report(untimedResult(k.name, shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  std::printf("# seed_rows (async_copy, cp_async_gs, tma_copy leader groups, copy_cluster keywords) on %s\n",
              gpu().name.c_str());
  const Kernel kernels[] = {
      {"async_tile", async_tile_launch, async_tile_select_variant, async_tile_variant_entry, 1, false},
      {"gs_tile", gs_tile_launch, gs_tile_select_variant, gs_tile_variant_entry, 1, true},
      {"tma_leader_store", tma_leader_store_launch, tma_leader_store_select_variant, tma_leader_store_variant_entry, 1,
       true},
      {"cluster_evict", cluster_evict_launch, cluster_evict_select_variant, cluster_evict_variant_entry, 2, false},
      {"cluster_layout", cluster_layout_launch, cluster_layout_select_variant, cluster_layout_variant_entry, 2, false},
  };
  const int rows[] = {1, 17, 33, 1009};
  const int cols[] = {1, 7, 131, 8, 72, 136, 256};
  for (const Kernel& k : kernels)
    for (int M : rows)
      for (int N : cols) {
        if (k.oneVariant && N % 8 != 0) continue;
        test(k, M, N, 0);
        if (!k.oneVariant) test(k, M, N, 8);
      }
  return finish();
}
