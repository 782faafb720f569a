// scale.cu: hand-written CUDA equivalent of examples/scale_ptr.tl, for the
// compile-speed comparison: q = s * p over n floats, 1024 elements per block of 256
// threads. Two entries, as tlc emits: float4 accesses when the pointers allow, and a
// general one.
constexpr int BLOCK = 1024, THREADS = 256;

extern "C" __global__ void __launch_bounds__(THREADS) scale_aligned(const float* p, float* q, int n, float s) {
  const int base = blockIdx.x * BLOCK;
  for (int i = threadIdx.x * 4; i < BLOCK; i += THREADS * 4) {
    const int at = base + i;
    if (at + 3 < n) {
      const float4 x = *reinterpret_cast<const float4*>(p + at);
      *reinterpret_cast<float4*>(q + at) = make_float4(x.x * s, x.y * s, x.z * s, x.w * s);
    } else {
      for (int k = at; k < n && k < at + 4; ++k) q[k] = p[k] * s;
    }
  }
}

extern "C" __global__ void __launch_bounds__(THREADS) scale(const float* p, float* q, int n, float s) {
  const int base = blockIdx.x * BLOCK;
  for (int i = threadIdx.x; i < BLOCK; i += THREADS)
    if (base + i < n) q[base + i] = p[base + i] * s;
}
