/* host_app: launches two tlc kernels from C through their generated headers and
 * checks the results on the host.
 *
 * Prints one line per check in the GPU harness's format (tests/gpu/harness.h):
 *   RESULT|host_app|<what>|PASS or FAIL|<max error>|-|-|-|<variant>
 * Exit status: 0 when every check passed, 1 otherwise. */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "scale.h"     /* from kernels/scale.tl, by tlc_add_kernels */
#include "tile_copy.h" /* from kernels/tile_copy.tl */

static int failures = 0;

static void result(const char *what, int pass, double max_error, const char *variant) {
  if (!pass) ++failures;
  printf("RESULT|host_app|%s|%s|%.3g|-|-|-|%s\n", what, pass ? "PASS" : "FAIL", max_error,
         variant ? variant : "?");
  fflush(stdout);
}

static const char *error_name(CUresult status) {
  const char *name = NULL;
  cuGetErrorName(status, &name);
  return name ? name : "unknown CUresult";
}

/* Small deterministic generator (xorshift32). */
static uint32_t next_random(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

#define CHECK_CU(call)                                                            \
  do {                                                                            \
    CUresult check_status_ = (call);                                              \
    if (check_status_ != CUDA_SUCCESS) {                                          \
      fprintf(stderr, "host_app: %s failed: %s\n", #call, error_name(check_status_)); \
      return 0;                                                                   \
    }                                                                             \
  } while (0)

/* tile_copy: B = A for an M x N float16 matrix (raw 16-bit patterns, compared exactly). */
static int test_tile_copy(CUstream stream, int32_t m, int32_t n) {
  size_t count = (size_t)m * (size_t)n, bytes = count * sizeof(uint16_t), i, wrong = 0;
  uint16_t *a = (uint16_t *)malloc(bytes), *b = (uint16_t *)malloc(bytes);
  uint32_t state = 12345u;
  CUdeviceptr da = 0, db = 0;
  char what[64];
  const char *variant;
  CUresult status;
  for (i = 0; i < count; ++i) a[i] = (uint16_t)(next_random(&state) & 0x7bffu); /* finite */
  CHECK_CU(cuMemAlloc(&da, bytes));
  CHECK_CU(cuMemAlloc(&db, bytes));
  CHECK_CU(cuMemcpyHtoD(da, a, bytes));
  CHECK_CU(cuMemsetD8(db, 0xff, bytes)); /* poison: an unwritten element shows */
  CHECK_CU(cuCtxSynchronize());
  variant = tile_copy_variant_entry(tile_copy_select_variant(da, db, m, n));
  status = tile_copy_launch(da, db, m, n, stream);
  if (status == CUDA_SUCCESS) status = cuStreamSynchronize(stream);
  if (status == CUDA_SUCCESS) status = cuMemcpyDtoH(b, db, bytes);
  if (status != CUDA_SUCCESS) fprintf(stderr, "host_app: tile_copy: %s\n", error_name(status));
  for (i = 0; status == CUDA_SUCCESS && i < count; ++i)
    if (a[i] != b[i] && wrong++ < 5)
      fprintf(stderr, "host_app: tile_copy %dx%d: B[%zu] = 0x%04x, expected 0x%04x\n", (int)m, (int)n, i, b[i], a[i]);
  if (wrong) fprintf(stderr, "host_app: tile_copy %dx%d: %zu of %zu values wrong\n", (int)m, (int)n, wrong, count);
  snprintf(what, sizeof what, "tile_copy %dx%d fp16", (int)m, (int)n);
  result(what, status == CUDA_SUCCESS && wrong == 0, status == CUDA_SUCCESS ? (double)wrong : INFINITY, variant);
  cuMemFree(da);
  cuMemFree(db);
  free(a);
  free(b);
  return 1;
}

/* scale: q = s * p over n float32 values, exact (one multiplication per element). */
static int test_scale(CUstream stream, int32_t n) {
  size_t bytes = (size_t)n * sizeof(float), i, wrong = 0;
  float *p = (float *)malloc(bytes), *q = (float *)malloc(bytes);
  const float s = -2.3125f;
  double max_error = 0;
  uint32_t state = 777u;
  CUdeviceptr dp = 0, dq = 0;
  char what[64];
  const char *variant;
  CUresult status;
  for (i = 0; i < (size_t)n; ++i) p[i] = (float)(next_random(&state) % 20001u) / 100.0f - 100.0f;
  CHECK_CU(cuMemAlloc(&dp, bytes));
  CHECK_CU(cuMemAlloc(&dq, bytes));
  CHECK_CU(cuMemcpyHtoD(dp, p, bytes));
  CHECK_CU(cuMemsetD8(dq, 0xff, bytes)); /* poison: an unwritten element shows */
  CHECK_CU(cuCtxSynchronize());
  variant = scale_variant_entry(scale_select_variant(dp, dq, n, s));
  status = scale_launch(dp, dq, n, s, stream);
  if (status == CUDA_SUCCESS) status = cuStreamSynchronize(stream);
  if (status == CUDA_SUCCESS) status = cuMemcpyDtoH(q, dq, bytes);
  if (status != CUDA_SUCCESS) fprintf(stderr, "host_app: scale: %s\n", error_name(status));
  for (i = 0; status == CUDA_SUCCESS && i < (size_t)n; ++i) {
    float want = s * p[i];
    double error = q[i] == want ? 0.0 : (q[i] != q[i] ? INFINITY : (double)(q[i] - want));
    if (error < 0) error = -error;
    if (error != 0 && wrong++ < 5)
      fprintf(stderr, "host_app: scale n=%d: q[%zu] = %g, expected %g\n", (int)n, i, (double)q[i], (double)want);
    if (error > max_error) max_error = error;
  }
  if (wrong) fprintf(stderr, "host_app: scale n=%d: %zu of %d values wrong\n", (int)n, wrong, (int)n);
  snprintf(what, sizeof what, "scale n=%d fp32", (int)n);
  result(what, status == CUDA_SUCCESS && max_error == 0, status == CUDA_SUCCESS ? max_error : INFINITY, variant);
  cuMemFree(dp);
  cuMemFree(dq);
  free(p);
  free(q);
  return 1;
}

int main(void) {
  CUdevice device;
  CUcontext context;
  CUstream stream;
  char name[256] = "?";
  CUresult status = cuInit(0);
  if (status == CUDA_SUCCESS) status = cuDeviceGet(&device, 0);
  if (status == CUDA_SUCCESS) status = cuDevicePrimaryCtxRetain(&context, device);
  if (status == CUDA_SUCCESS) status = cuCtxSetCurrent(context);
  /* A blocking stream: it waits for the cuMemset* calls, which run on the legacy
   * default stream and may still be running when they return. */
  if (status == CUDA_SUCCESS) status = cuStreamCreate(&stream, CU_STREAM_DEFAULT);
  if (status != CUDA_SUCCESS) {
    fprintf(stderr, "host_app: no usable GPU: %s\n", error_name(status));
    result("setup", 0, 0, error_name(status));
    return 1;
  }
  cuDeviceGetName(name, sizeof name, device);
  printf("# host_app on %s\n", name);

  /* Each header embeds an sm_90a and an sm_100a cubin (ARCHS in CMakeLists.txt) and
   * loads the one for this device: sm_90a on compute capability 9.0 (H100, H200),
   * sm_100a on 10.0 (B200); any other device has no cubin. */
  {
    int major = 0, minor = 0;
    const char *arch = tile_copy_arch(), *want;
    cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    want = major == 9 && minor == 0 ? "sm_90a" : major == 10 && minor == 0 ? "sm_100a" : NULL;
    printf("# compute capability %d.%d: tile_copy.h picks %s\n", major, minor, arch ? arch : "no cubin");
    result("arch picked by compute capability", want ? arch && strcmp(arch, want) == 0 : arch == NULL, 0,
           arch ? arch : "none");
  }

  /* Load both modules now, so that a missing binary for this GPU shows here. */
  status = tile_copy_load();
  if (status == CUDA_SUCCESS) status = scale_load();
  if (status != CUDA_SUCCESS) {
    fprintf(stderr, "host_app: loading the kernels: %s\n", tile_copy_last_error()[0] ? tile_copy_last_error() : scale_last_error());
    result("load", 0, 0, error_name(status));
    return 1;
  }

  if (!test_tile_copy(stream, 1000, 1000) || !test_tile_copy(stream, 77, 301) || !test_scale(stream, 1) ||
      !test_scale(stream, 100003)) {
    result("driver call", 0, 0, "see stderr");
  }

  /* An empty launch is fine and launches nothing. */
  status = scale_launch(0, 0, 0, 1.0f, stream);
  result("scale n=0", status == CUDA_SUCCESS, 0, "-");

  /* A bad argument: CUDA_ERROR_INVALID_VALUE, and the header says why on this thread. */
  status = tile_copy_launch(0, 0, -1, 10, stream);
  printf("# tile_copy_launch(M = -1): %s\n", tile_copy_last_error());
  result("tile_copy M=-1 rejected", status == CUDA_ERROR_INVALID_VALUE &&
         strncmp(tile_copy_last_error(), "tile_copy_launch: CUDA_ERROR_INVALID_VALUE", 42) == 0, 0, "-");

  /* The launch shapes, from <kernel>_info (built with -DBM=64). */
  {
    const tlc_kernel_info *info;
    int v, ok = 1;
    for (v = 0; (info = tile_copy_info(v)) != NULL; ++v) {
      printf("# %s variant %d of %d: %s, %u threads, %u B dynamic shared memory, cluster %ux%ux%u, %s\n",
             info->kernel, info->variant, info->variant_count, info->entry, info->block[0], info->shared_bytes,
             info->cluster[0], info->cluster[1], info->cluster[2], info->arch);
      ok = ok && info->block[0] == 128 && info->variant == v;
    }
    result("tile_copy_info", ok && v >= 1 && scale_info(0) != NULL && scale_info(0)->block[0] == 64, 0, "-");
  }

  cuStreamDestroy(stream);
  tile_copy_unload();
  scale_unload();
  cuDevicePrimaryCtxRelease(device);
  return failures == 0 ? 0 : 1;
}
