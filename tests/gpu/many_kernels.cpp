// many_kernels: one cubin linked from several PTX inputs (tests/gpu/kernels/many_kernels.tl,
// issues 17 and 23). tlc builds a file's kernels in groups and hands ptxas their
// PTX in batches, which it links into the one cubin the header embeds; every kernel
// must load from it, be found by name and compute its own function:
//
//   axpb_KK   Y = X * (KK + 1) + KK, a (16384,) float32 fragment a block (128 a thread)
//
// Shapes: N of 1, 17, primes, one block and a bit; pointers aligned and 8 bytes off.
// Inputs are multiples of 1/8 below 128 in magnitude, so every result is exact in
// float32 (with or without a fused multiply-add): compared bit for bit. Outputs are
// poisoned first; the guard zones of every buffer must be intact.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "many_kernels.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using Launch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, CUstream);
using Select = int (*)(CUdeviceptr, CUdeviceptr, int32_t);
using Entry = const char* (*)(int);

struct Kernel {
  const char* name;
  Launch launch;
  Select select;
  Entry entry;
  int k;
};

#define TLC_KERNEL(KK, k) {"axpb_" #KK, axpb_##KK##_launch, axpb_##KK##_select_variant, axpb_##KK##_variant_entry, k}
const Kernel kKernels[] = {TLC_KERNEL(00, 0), TLC_KERNEL(01, 1), TLC_KERNEL(02, 2),  TLC_KERNEL(03, 3),
                           TLC_KERNEL(04, 4), TLC_KERNEL(05, 5), TLC_KERNEL(06, 6),  TLC_KERNEL(07, 7),
                           TLC_KERNEL(08, 8), TLC_KERNEL(09, 9), TLC_KERNEL(10, 10), TLC_KERNEL(11, 11)};
#undef TLC_KERNEL

void fillEighths(std::vector<float>& v, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : v) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    f = float(int64_t(x % 2001) - 1000) / 8.0f;  // |f| <= 125, a multiple of 1/8
  }
}

void testKernel(const Kernel& kernel, int N, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  std::vector<float> x(N), y(N);
  fillEighths(x, 17u + uint64_t(N) * 3u + kernel.k);
  DeviceBuffer dx(size_t(N) * 4, offset), dy(size_t(N) * 4, offset);
  dx.upload(x.data());
  dy.poison();
  const std::string shape = std::to_string(N) + (offset ? " +" + std::to_string(offset) + "B" : "") + " fp32";
  const char* entry = kernel.entry(kernel.select(dx.ptr(), dy.ptr(), N));
  if (offset) expectVariant(entry, kernel.name, shape, check);  // 8 bytes off 16: the general variant
  if (launchAndWait(kernel.launch(dx.ptr(), dy.ptr(), N, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < N; ++i) {
      const float want = x[i] * float(kernel.k + 1) + float(kernel.k);  // exact: no rounding
      uint32_t got32, want32;
      std::memcpy(&got32, &y[i], 4);
      std::memcpy(&want32, &want, 4);
      check.addBits(size_t(i), got32, want32);
    }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact()) check.fail("wrote outside X");
  }
  Result r = untimedResult(kernel.name, shape, check.passed(), entry ? entry : "?");
  r.maxErr = check.maxError();
  report(r);
}

}  // namespace

int main() {
  std::printf("# many_kernels (one cubin from several ptxas inputs) on %s\n", gpu().name.c_str());
  const int sizes[] = {1, 17, 16384, 16387, 40009};
  for (const Kernel& kernel : kKernels)
    for (int N : sizes) {
      testKernel(kernel, N, 0);
      testKernel(kernel, N, 8);
    }
  return finish();
}
