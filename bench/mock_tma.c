/* mock_tma.c: what the CPU rehearsal (run_bench.sh --dry-run) adds to tests/gpu/mock's
 * libcuda stand-in: a cuTensorMapEncodeTiled that always refuses. tlc's launchers then
 * fall back to their next (SIMT) variant, which the mock can emulate; the host emulation
 * has no tensor-memory engine to imitate. Linked into the same libcuda.so.1. */
#include <cuda.h>

CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank, void *address,
                                const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
                                const cuuint32_t *steps, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion promotion, CUtensorMapFloatOOBfill fill) {
  (void)map; (void)type; (void)rank; (void)address; (void)dims; (void)strides; (void)box; (void)steps;
  (void)interleave; (void)swizzle; (void)promotion; (void)fill;
  return CUDA_ERROR_NOT_SUPPORTED;
}
