// transpose.cu: hand-written CUDA equivalent of examples/transpose.tl, for the
// compile-speed comparison: At = A^T for an M x N float32 matrix, one 64 x 64 tile per
// block of 256 threads, through a padded shared tile (no bank conflicts).
constexpr int T = 64, THREADS = 256;

extern "C" __global__ void __launch_bounds__(THREADS) transpose2d(const float* A, float* At, int M, int N) {
  __shared__ float tile[T][T + 1];
  const int row0 = blockIdx.y * T, col0 = blockIdx.x * T;
  for (int i = threadIdx.x; i < T * T; i += THREADS) {
    const int r = i / T, c = i % T;
    if (row0 + r < M && col0 + c < N) tile[r][c] = A[size_t(row0 + r) * N + col0 + c];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < T * T; i += THREADS) {
    const int r = i / T, c = i % T;  // r: a column of A, c: a row of A
    if (col0 + r < N && row0 + c < M) At[size_t(col0 + r) * M + row0 + c] = tile[c][r];
  }
}
