// kernels.cu: hand-written CUDA kernels for the header self-test (no tlc involved).
//
// Built with `nvcc -cubin` on the build machine; make_header.cpp describes them as a
// loop-IR module so that the real header generator writes their launcher. Their
// parameters are in the order Sema would produce for the .tl kernels they imitate.
#include <cuda_fp16.h>

#include <cstdint>

// Variant 0 of copy: 16-byte vector accesses, valid only when A and B are 16-byte
// aligned and N % 8 == 0 (a wrong choice by the launcher faults: misaligned address).
extern "C" __global__ void __launch_bounds__(128)
copy_vec8(const uint16_t* A, int M, int N, uint16_t* B) {
  const int col8 = blockIdx.x * 128 + threadIdx.x;  // in units of 8 elements
  for (int r = 0; r < 128; ++r) {
    const int row = blockIdx.y * 128 + r;
    if (row < M && col8 * 8 < N) {
      const size_t at = (size_t(row) * N) / 8 + col8;
      reinterpret_cast<uint4*>(B)[at] = reinterpret_cast<const uint4*>(A)[at];
    }
  }
}

// The general variant: one element per thread and row.
extern "C" __global__ void __launch_bounds__(128)
copy_general(const uint16_t* A, int M, int N, uint16_t* B) {
  const int col = blockIdx.x * 128 + threadIdx.x;
  for (int r = 0; r < 128; ++r) {
    const int row = blockIdx.y * 128 + r;
    if (row < M && col < N) B[size_t(row) * N + col] = A[size_t(row) * N + col];
  }
}

// q = flag ? s * p + h : p, staged through 100 KB of dynamic shared memory, launched
// as 2x1x1 clusters. Elements of a block whose cluster is not 2 CTAs become NaN.
extern "C" __global__ void __launch_bounds__(256)
scale_cluster(const float* p, float* q, int n, float s, uint8_t flag, uint16_t h) {
  extern __shared__ float staged[];  // 25600 floats
  unsigned cluster_ctas;
  asm("mov.u32 %0, %%cluster_nctarank;" : "=r"(cluster_ctas));
  const float hf = __half2float(__ushort_as_half(h));
  for (int k = threadIdx.x; k < 25600; k += 256) staged[k] = float(k);
  __syncthreads();
  for (int k = threadIdx.x; k < 1024; k += 256) {
    const int i = blockIdx.x * 1024 + k;
    if (i >= n) continue;
    float v = flag ? s * p[i] + hf : p[i];
    if (staged[25599 - k] != float(25599 - k) || cluster_ctas != 2) v = __int_as_float(0x7fc00000);
    q[i] = v;
  }
}
