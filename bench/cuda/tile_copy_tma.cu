// tile_copy_tma.cu: hand-written CUDA equivalent of examples/tile_copy.tl on the TMA
// path, for the compile-speed comparison: one 128 x 128 float16 tile per block, loaded
// by the tensor-memory engine into shared memory (an mbarrier counts the bytes) and
// stored back by it. The host encodes both CUtensorMaps (cuTensorMapEncodeTiled) and
// passes them by value as grid constants. Inline PTX keeps the includes to cuda.h.
#include <cuda.h>
#include <cstdint>

constexpr int BM = 128, BN = 128;

extern "C" __global__ void __launch_bounds__(128)
tile_copy_tma(const __grid_constant__ CUtensorMap A_map, const __grid_constant__ CUtensorMap B_map) {
  __shared__ alignas(128) uint16_t tile[BM * BN];
  __shared__ alignas(8) uint64_t full;
  const uint32_t tile_addr = static_cast<uint32_t>(__cvta_generic_to_shared(tile));
  const uint32_t bar_addr = static_cast<uint32_t>(__cvta_generic_to_shared(&full));
  const int x = blockIdx.x * BN, y = blockIdx.y * BM;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar_addr));
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar_addr), "r"(BM * BN * 2) : "memory");
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
        ::"r"(tile_addr), "l"(&A_map), "r"(x), "r"(y), "r"(bar_addr) : "memory");
  }
  asm volatile(
      "{\n .reg .pred done;\n wait: mbarrier.try_wait.parity.shared::cta.b64 done, [%0], 0;\n"
      " @!done bra wait;\n}" ::"r"(bar_addr) : "memory");
  if (threadIdx.x == 0) {
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%1, %2}], [%3];"
                 ::"l"(&B_map), "r"(x), "r"(y), "r"(tile_addr) : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
  }
}
