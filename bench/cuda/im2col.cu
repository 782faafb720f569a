// im2col.cu: hand-written CUDA equivalent of the spec's im2col.tl (SIMT path), for the
// compile-speed comparison (bench/compile_speed.py): unfold an NHWC float16 image into
// the column matrix of an implicit-GEMM convolution,
//   col[(n * OH + oh) * OW + ow, (kh * KW + kw) * C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// (zero outside the image), one 64 x 64 tile of col per block through shared memory,
// 128 threads, the example's constants (NB 8, 56 x 56, C 64, 3 x 3, stride 1, pad 1).
// Two entries, as tlc emits: 16-byte vectors when the pointers and C allow, and a
// general one.
#include <cuda_fp16.h>

constexpr int NB = 8, H = 56, W = 56, C = 64, KW = 3, S = 1, D = 1, P = 1;
constexpr int OH = (H + 2 * P - D * (KW - 1) - 1) / S + 1, OW = (W + 2 * P - D * (KW - 1) - 1) / S + 1;
constexpr int ROWS = NB * OH * OW, COLS = KW * KW * C;
constexpr int BM = 64, BK = 64, THREADS = 128;

// The image element a column-matrix element reads, or -1 for the zero padding.
__device__ __forceinline__ long long source(int row, int column) {
  const int n = row / (OH * OW), oh = row / OW % OH, ow = row % OW;
  const int tap = column / C, c = column % C, kh = tap / KW, kw = tap % KW;
  const int h = oh * S - P + kh * D, w = ow * S - P + kw * D;
  if (h < 0 || h >= H || w < 0 || w >= W) return -1;
  return ((static_cast<long long>(n) * H + h) * W + w) * C + c;
}

extern "C" __global__ void __launch_bounds__(THREADS) unfold_aligned(const __half* img, __half* col) {
  __shared__ alignas(16) __half tile[BM * BK];
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BK;
  constexpr int VEC = 8, PER_ROW = BK / VEC;  // 8 halves = 16 bytes, inside one tap (C % 8 == 0)
  for (int i = threadIdx.x; i < BM * PER_ROW; i += THREADS) {
    const int r = i / PER_ROW, c = (i % PER_ROW) * VEC;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (row0 + r < ROWS && col0 + c < COLS) {
      const long long at = source(row0 + r, col0 + c);
      if (at >= 0) value = *reinterpret_cast<const uint4*>(&img[at]);
    }
    *reinterpret_cast<uint4*>(&tile[r * BK + c]) = value;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < BM * PER_ROW; i += THREADS) {
    const int r = i / PER_ROW, c = (i % PER_ROW) * VEC;
    if (row0 + r < ROWS && col0 + c < COLS)
      *reinterpret_cast<uint4*>(&col[static_cast<size_t>(row0 + r) * COLS + col0 + c]) =
          *reinterpret_cast<const uint4*>(&tile[r * BK + c]);
  }
}

extern "C" __global__ void __launch_bounds__(THREADS) unfold(const __half* img, __half* col) {
  __shared__ __half tile[BM * BK];
  const int row0 = blockIdx.y * BM, col0 = blockIdx.x * BK;
  for (int i = threadIdx.x; i < BM * BK; i += THREADS) {
    const int r = i / BK, c = i % BK;
    __half value = __float2half(0.0f);
    if (row0 + r < ROWS && col0 + c < COLS) {
      const long long at = source(row0 + r, col0 + c);
      if (at >= 0) value = img[at];
    }
    tile[i] = value;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < BM * BK; i += THREADS) {
    const int r = i / BK, c = i % BK;
    if (row0 + r < ROWS && col0 + c < COLS) col[static_cast<size_t>(row0 + r) * COLS + col0 + c] = tile[i];
  }
}
