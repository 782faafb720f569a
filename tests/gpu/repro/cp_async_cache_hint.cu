// Reproducer kept for the day cp.async may take an L2 cache hint again (docs/robustness.md,
// findings: "GPU run (session 3)"). Every form of the hinted cp.async that nvcc writes runs
// correctly on the H100 (2026-11-21: all 20 lines "cudaSuccess, 0 wrong words"); tlc's
// PTX for the same instruction does not, because ptxas loses the policy register (see the
// findings). Build here:   nvcc -O2 -arch=sm_90a -o hint cp_async_cache_hint.cu
// Run on the GPU machine:  for v in 0 1 2 3 4 5; do for s in 16 8 0; do ./hint $v $s; done; done
// To check a newer ptxas on tlc's own form: compile the spec's strided_compact.tl with the
// hint re-enabled in LowerTileOps (cacheHint on CpAsync), then `cuobjdump -sass` the cubin and
// look at the LDGSTS lines' desc[...] register.
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cuda_runtime.h>

template <int V>
__global__ void k(const uint4* src, uint4* dst, int srcsize, int fraction_kind) {
  __shared__ uint4 s[128];
  uint64_t policy;
  if (fraction_kind == 0)
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  else
    asm volatile("createpolicy.fractional.L2::evict_first.L2::evict_unchanged.b64 %0, 1.0;" : "=l"(policy));
  unsigned d = (unsigned)__cvta_generic_to_shared(&s[threadIdx.x]);
  const uint4* g = src + threadIdx.x;
  if (V == 0) asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(d), "l"(g), "r"(srcsize) : "memory");
  if (V == 1) asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;" :: "r"(d), "l"(g), "l"(policy) : "memory");
  if (V == 2) asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2, %3;" :: "r"(d), "l"(g), "r"(srcsize), "l"(policy) : "memory");
  if (V == 3) asm volatile("cp.async.ca.shared.global.L2::cache_hint [%0], [%1], 16, %2, %3;" :: "r"(d), "l"(g), "r"(srcsize), "l"(policy) : "memory");
  if (V == 4) asm volatile("cp.async.ca.shared.global.L2::cache_hint [%0], [%1], 4, %2, %3;" :: "r"(d), "l"(g), "r"(srcsize > 4 ? 4 : srcsize), "l"(policy) : "memory");
  if (V == 5) {  // ignore-src predicate form
    asm volatile("{\n\t.reg .pred p;\n\tsetp.eq.s32 p, %2, 0;\n\tcp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, p, %3;\n\t}" :: "r"(d), "l"(g), "r"(srcsize), "l"(policy) : "memory");
  }
  asm volatile("cp.async.commit_group;\n\tcp.async.wait_all;" ::: "memory");
  __syncthreads();
  dst[threadIdx.x] = s[threadIdx.x];
}

int main(int argc, char** argv) {
  int v = atoi(argv[1]), srcsize = atoi(argv[2]), fk = argc > 3 ? atoi(argv[3]) : 0;
  uint4 *src, *dst;
  cudaMalloc(&src, 128 * 16); cudaMalloc(&dst, 128 * 16);
  uint4 h[128];
  for (int i = 0; i < 128; ++i) h[i] = make_uint4(i, i + 1, i + 2, i + 3);
  cudaMemcpy(src, h, sizeof h, cudaMemcpyHostToDevice);
  cudaMemset(dst, 0xFF, 128 * 16);
  switch (v) {
    case 0: k<0><<<1, 128>>>(src, dst, srcsize, fk); break;
    case 1: k<1><<<1, 128>>>(src, dst, srcsize, fk); break;
    case 2: k<2><<<1, 128>>>(src, dst, srcsize, fk); break;
    case 3: k<3><<<1, 128>>>(src, dst, srcsize, fk); break;
    case 4: k<4><<<1, 128>>>(src, dst, srcsize, fk); break;
    case 5: k<5><<<1, 128>>>(src, dst, srcsize, fk); break;
  }
  cudaError_t e = cudaDeviceSynchronize();
  uint4 o[128];
  int bad = 0;
  if (e == cudaSuccess) {
    cudaMemcpy(o, dst, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 128; ++i) {
      unsigned w[4] = {o[i].x, o[i].y, o[i].z, o[i].w}, x[4] = {h[i].x, h[i].y, h[i].z, h[i].w};
      int n = v == 1 ? 16 : v == 4 ? (srcsize > 4 ? 4 : srcsize) : srcsize;
      if (v == 5) n = srcsize == 0 ? 0 : 16;
      for (int b = 0; b < 4; ++b) {
        unsigned want = (b * 4 < n) ? x[b] : (v == 4 && b >= 1 ? w[b] : 0u);
        if (w[b] != want) ++bad;
      }
    }
  }
  printf("variant %d srcsize %2d policy %s: %s, %d wrong words\n", v, srcsize, fk ? "first+unchanged" : "first", cudaGetErrorName(e), bad);
  return 0;
}
