// lineinfo_broken: launches tests/gpu/kernels/lineinfo_broken.tl (built with -lineinfo)
// on a buffer 64 floats shorter than the n it is told: the last block writes past the
// allocation (inside the driver's allocation granularity, so nothing faults without a
// checker). Not a test of its own: scripts/lineinfo_check.sh runs it under
// compute-sanitizer and Nsight Compute and checks that they name the .tl line.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "lineinfo_broken.h"
#endif
#include TLC_KERNEL_HEADER

int main() {
  gpu_test::gpu();
  const int allocated = 1000, claimed = 1064;
  CUdeviceptr p = 0;
  CU_CHECK(cuMemAlloc(&p, allocated * sizeof(float)));
  CUresult r = broken_launch(p, claimed, nullptr);
  if (r == CUDA_SUCCESS) r = cuCtxSynchronize();
  std::printf("lineinfo_broken: launch %s\n", gpu_test::errorName(r));
  cuMemFree(p);
  return 0;
}
