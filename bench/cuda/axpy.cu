// axpy.cu: hand-written CUDA equivalent of examples/axpy_fragment.tl, for the
// compile-speed comparison: C = A + alpha * B in float32, one 64 x 256 tile per block of
// 256 threads, in registers. Two entries, as tlc emits: float4 accesses when the
// pointers and N allow, and a general one.
constexpr int BM = 64, BN = 256, THREADS = 256;

extern "C" __global__ void __launch_bounds__(THREADS)
axpy_aligned(const float* A, const float* B, float* C, int M, int N, float alpha) {
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  constexpr int PER_ROW = BN / 4;
  for (int i = threadIdx.x; i < BM * PER_ROW; i += THREADS) {
    const int r = row0 + i / PER_ROW, c = col0 + (i % PER_ROW) * 4;
    if (r < M && c < N) {
      const size_t at = size_t(r) * N + c;
      const float4 a = *reinterpret_cast<const float4*>(A + at), b = *reinterpret_cast<const float4*>(B + at);
      *reinterpret_cast<float4*>(C + at) =
          make_float4(a.x + alpha * b.x, a.y + alpha * b.y, a.z + alpha * b.z, a.w + alpha * b.w);
    }
  }
}

extern "C" __global__ void __launch_bounds__(THREADS)
axpy(const float* A, const float* B, float* C, int M, int N, float alpha) {
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BN;
  for (int i = threadIdx.x; i < BM * BN; i += THREADS) {
    const int r = row0 + i / BN, c = col0 + i % BN;
    if (r < M && c < N) C[size_t(r) * N + c] = A[size_t(r) * N + c] + alpha * B[size_t(r) * N + c];
  }
}
