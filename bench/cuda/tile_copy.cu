// tile_copy.cu: hand-written CUDA equivalent of examples/tile_copy.tl (SIMT path), for
// the compile-speed comparison (bench/compile_speed.py): B = A for an M x N float16
// matrix, one 128 x 128 tile per block through shared memory, 128 threads. Two entries,
// as tlc emits: 16-byte vectors when the pointers and N allow, and a general one.
#include <cuda_fp16.h>

constexpr int BM = 128, BN = 128, THREADS = 128;

extern "C" __global__ void __launch_bounds__(THREADS) tile_copy_aligned(const __half* A, __half* B, int M, int N) {
  __shared__ alignas(16) __half tile[BM * BN];
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  constexpr int VEC = 8, PER_ROW = BN / VEC;  // 8 halves = 16 bytes
  for (int i = threadIdx.x; i < BM * PER_ROW; i += THREADS) {
    const int r = i / PER_ROW, c = (i % PER_ROW) * VEC;
    if (row0 + r < M && col0 + c < N)
      *reinterpret_cast<uint4*>(&tile[r * BN + c]) =
          *reinterpret_cast<const uint4*>(&A[size_t(row0 + r) * N + col0 + c]);
  }
  __syncthreads();
  for (int i = threadIdx.x; i < BM * PER_ROW; i += THREADS) {
    const int r = i / PER_ROW, c = (i % PER_ROW) * VEC;
    if (row0 + r < M && col0 + c < N)
      *reinterpret_cast<uint4*>(&B[size_t(row0 + r) * N + col0 + c]) =
          *reinterpret_cast<const uint4*>(&tile[r * BN + c]);
  }
}

extern "C" __global__ void __launch_bounds__(THREADS) tile_copy(const __half* A, __half* B, int M, int N) {
  __shared__ __half tile[BM * BN];
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  for (int i = threadIdx.x; i < BM * BN; i += THREADS) {
    const int r = i / BN, c = i % BN;
    if (row0 + r < M && col0 + c < N) tile[i] = A[size_t(row0 + r) * N + col0 + c];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < BM * BN; i += THREADS) {
    const int r = i / BN, c = i % BN;
    if (row0 + r < M && col0 + c < N) B[size_t(row0 + r) * N + col0 + c] = tile[i];
  }
}
