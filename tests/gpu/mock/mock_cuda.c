// mock_cuda.c: a host-memory stand-in for libcuda.so.1, to smoke-test the GPU harness
// (harness.h, the test programs, run_all.sh, the generated launchers) on a machine
// without a GPU. It is no GPU: "device" memory is host memory, launches run a C
// emulation of each test kernel chosen by entry name, events time that emulation.
// A specialized variant (`*_aligned`, `copy_vec8`) launched with pointers that are not
// 16-byte aligned makes the next synchronization fail, as a misaligned access would.
// Element size of the tile_copy kernels: MOCK_ELEM (2 by default; 4 for tile_copy_f32).
//
//   gcc -std=gnu11 -O2 -fPIC -shared -I/usr/local/cuda/include -o /tmp/mock/libcuda.so.1
//       tests/gpu/mock/mock_cuda.c -lm
//   LD_LIBRARY_PATH=/tmp/mock bash .gpu/run_all.sh selftest
#include <cuda.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static CUresult sticky = CUDA_SUCCESS;
static int smem_attr[64];
static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }

CUresult cuInit(unsigned int f) { (void)f; return CUDA_SUCCESS; }
CUresult cuGetErrorName(CUresult e, const char **s) {
  static char b[32];
  if (e == CUDA_ERROR_INVALID_VALUE) { *s = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS; } /* the tests match it */
  snprintf(b, 32, "MOCK_ERROR_%d", (int)e); *s = b; return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult e, const char **s) { (void)e; *s = "mock driver error"; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *d, int o) { (void)o; *d = 0; return CUDA_SUCCESS; }
CUresult cuDeviceGetName(char *n, int l, CUdevice d) { (void)d; snprintf(n, l, "Mock GPU"); return CUDA_SUCCESS; }
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
  (void)d;
  if (a == CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE) *v = 2619000;            /* kHz, an H100's */
  else if (a == CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH) *v = 5120;   /* bits */
  else *v = 50 << 20;                                                     /* the L2 size and the rest */
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { (void)d; *c = (CUcontext)(void *)0x1; return CUDA_SUCCESS; }
CUresult cuCtxSetCurrent(CUcontext c) { (void)c; return CUDA_SUCCESS; }
CUresult cuCtxCreate(CUcontext *c, CUctxCreateParams *p, unsigned int f, CUdevice d) { (void)p; (void)f; (void)d; *c = (CUcontext)(void *)0x2; return CUDA_SUCCESS; }
CUresult cuCtxDestroy(CUcontext c) { (void)c; return CUDA_SUCCESS; }
CUresult cuCtxSynchronize(void) { CUresult r = sticky; return r; }
CUresult cuStreamCreate(CUstream *s, unsigned int f) { (void)f; *s = (CUstream)(void *)0x10; return CUDA_SUCCESS; }
CUresult cuStreamDestroy(CUstream s) { (void)s; return CUDA_SUCCESS; }
CUresult cuStreamSynchronize(CUstream s) { (void)s; return sticky; }
CUresult cuMemAlloc(CUdeviceptr *p, size_t n) { void *m = aligned_alloc(256, (n + 255) / 256 * 256); if (!m) return CUDA_ERROR_OUT_OF_MEMORY; *p = (CUdeviceptr)(uintptr_t)m; return CUDA_SUCCESS; }
CUresult cuMemFree(CUdeviceptr p) { free((void *)(uintptr_t)p); return CUDA_SUCCESS; }
CUresult cuMemcpyHtoD(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoH(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoD(CUdeviceptr d, CUdeviceptr s, size_t n) { memcpy((void *)(uintptr_t)d, (void *)(uintptr_t)s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) { (void)st; return cuMemcpyDtoD(d, s, n); }
CUresult cuMemsetD8(CUdeviceptr d, unsigned char v, size_t n) { memset((void *)(uintptr_t)d, v, n); return CUDA_SUCCESS; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, CUstream s) { (void)s; for (size_t i = 0; i < n; ++i) ((unsigned *)(uintptr_t)d)[i] = v; return CUDA_SUCCESS; }
CUresult cuEventCreate(CUevent *e, unsigned int f) { (void)f; *e = (CUevent)malloc(sizeof(double)); return CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent e, CUstream s) { (void)s; *(double *)(void *)e = now_ms(); return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) { *ms = (float)(*(double *)(void *)b - *(double *)(void *)a); if (*ms <= 0) *ms = 1e-4f; return CUDA_SUCCESS; }
CUresult cuEventDestroy(CUevent e) { free(e); return CUDA_SUCCESS; }

static char names[64][64];
static int nkernels, loads;
CUresult cuLibraryLoadData(CUlibrary *l, const void *code, CUjit_option *a, void **b, unsigned c, CUlibraryOption *d, void **e, unsigned f) {
  (void)a; (void)b; (void)c; (void)d; (void)e; (void)f;
  if (memcmp(code, "\x7f" "ELF", 4) != 0) return CUDA_ERROR_INVALID_IMAGE;
  ++loads; *l = (CUlibrary)(void *)(uintptr_t)(0x100 + loads); return CUDA_SUCCESS;
}
CUresult cuLibraryUnload(CUlibrary l) { (void)l; return CUDA_SUCCESS; }
CUresult cuLibraryGetKernel(CUkernel *k, CUlibrary l, const char *name) {
  (void)l; int i; for (i = 0; i < nkernels; ++i) if (!strcmp(names[i], name)) break;
  if (i == nkernels) strcpy(names[nkernels++], name);
  *k = (CUkernel)(void *)(uintptr_t)(i + 1); return CUDA_SUCCESS;
}
CUresult cuKernelGetFunction(CUfunction *f, CUkernel k) { *f = (CUfunction)(void *)k; return CUDA_SUCCESS; }
CUresult cuCtxGetDevice(CUdevice *d) { *d = 0; return CUDA_SUCCESS; }
CUresult cuFuncGetAttribute(int *v, CUfunction_attribute a, CUfunction f) { (void)a; (void)f; *v = 0; return CUDA_SUCCESS; }
/* No TMA here: every tensor map is refused, so launchers fall back to their general variant. */
CUresult cuTensorMapEncodeTiled(CUtensorMap *m, CUtensorMapDataType t, cuuint32_t r, void *a, const cuuint64_t *d,
                                const cuuint64_t *s, const cuuint32_t *b, const cuuint32_t *e, CUtensorMapInterleave i,
                                CUtensorMapSwizzle w, CUtensorMapL2promotion l, CUtensorMapFloatOOBfill o) {
  (void)m; (void)t; (void)r; (void)a; (void)d; (void)s; (void)b; (void)e; (void)i; (void)w; (void)l; (void)o;
  return CUDA_ERROR_NOT_SUPPORTED;
}
CUresult cuTensorMapEncodeIm2col(CUtensorMap *m, CUtensorMapDataType t, cuuint32_t r, void *a, const cuuint64_t *d,
                                 const cuuint64_t *s, const int *lo, const int *hi, cuuint32_t c, cuuint32_t p,
                                 const cuuint32_t *e, CUtensorMapInterleave i, CUtensorMapSwizzle w,
                                 CUtensorMapL2promotion l, CUtensorMapFloatOOBfill o) {
  (void)m; (void)t; (void)r; (void)a; (void)d; (void)s; (void)lo; (void)hi; (void)c; (void)p; (void)e; (void)i; (void)w;
  (void)l; (void)o;
  return CUDA_ERROR_NOT_SUPPORTED;  /* like the tiled maps: the launcher runs the general variant */
}
CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v) { if (a == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) smem_attr[(uintptr_t)(void *)f] = v; return CUDA_SUCCESS; }

static float h2f(uint16_t h) {
  uint32_t e = (h >> 10) & 31, m = h & 1023; float v = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(m | 1024), (int)e - 25);
  return (h >> 15) ? -v : v;
}
static uint16_t f2h(float f) { /* round to nearest even; normal results only (the row_scale test's) */
  uint32_t x; memcpy(&x, &f, 4); uint32_t s = (x >> 16) & 0x8000; int e = (int)((x >> 23) & 0xff) - 112; uint32_t m = x & 0x7fffff;
  if ((x & 0x7fffffff) == 0) return (uint16_t)s;
  if (e <= 0 || e >= 31) return (uint16_t)(s | 0x7c00);
  uint32_t h = ((uint32_t)e << 10) | (m >> 13), r = m & 0x1fff; if (r > 0x1000 || (r == 0x1000 && (h & 1))) ++h; return (uint16_t)(s | h);
}
#define P(i, T) (*(T *)args[i])
#define PTR(i, T) ((T *)(uintptr_t)P(i, CUdeviceptr))
/* Any finite float16 result, subnormals included (the row kernels'). */
static uint16_t f2h_any(float f) {
  if (fabsf(f) >= 0x1p-14f) return f2h(f);
  uint16_t s = signbit(f) ? 0x8000 : 0;
  return (uint16_t)(s | (uint16_t)nearbyintf(fabsf(f) * 0x1p24f)); /* 2^-24 steps, ties to even */
}
/* The e4m3 code nearest to f, ties to the even code, saturating at 448 (finite f). */
static uint8_t f2e4m3(float f) {
  uint8_t s = signbit(f) ? 0x80 : 0; float a = fabsf(f); int best = 0; float err = INFINITY;
  if (a >= 448.0f) return (uint8_t)(s | 0x7E);
  for (int c = 0; c < 0x7F; ++c) {
    int e = (c >> 3) & 15, m = c & 7; float v = e == 0 ? ldexpf((float)m, -9) : ldexpf(1.0f + m / 8.0f, e - 7);
    float d = fabsf(v - a); if (d < err || (d == err && !(c & 1))) best = c, err = d;
  }
  return (uint8_t)(s | best);
}
/* The row kernels of examples/ (issue 21 item 4): X, M, N, then the other tensors; by
   their entry names exactly (tests/gpu/kernels/atomics.tl has a float32 col_sum). */
static int is_row_kernel(const char *name) {
  static const char *kernels[] = {"softmax", "rmsnorm", "layernorm", "fp8_quant", "col_sum", "bias_gelu"};
  for (int k = 0; k < 6; ++k) {
    size_t n = strlen(kernels[k]);
    if (!strncmp(name, kernels[k], n) && (!name[n] || !strcmp(name + n, "_aligned"))) return 1;
  }
  return 0;
}
static int row_kernel(const char *name, void **args) {
  int M = P(1, int), N = P(2, int); uint16_t *X = PTR(0, uint16_t);
  for (int i = 0; i < M; ++i) {
    const uint16_t *x = X + (size_t)i * N; float a = 0, b = 0;
    if (!strncmp(name, "softmax", 7)) {
      uint16_t *Y = PTR(3, uint16_t); a = -INFINITY;
      for (int j = 0; j < N; ++j) a = fmaxf(a, h2f(x[j]));
      for (int j = 0; j < N; ++j) b += expf(h2f(x[j]) - a);
      for (int j = 0; j < N; ++j) Y[(size_t)i * N + j] = f2h_any(expf(h2f(x[j]) - a) / b);
    } else if (!strncmp(name, "rmsnorm", 7)) {
      uint16_t *W = PTR(3, uint16_t), *Y = PTR(4, uint16_t);
      for (int j = 0; j < N; ++j) a += h2f(x[j]) * h2f(x[j]);
      a = 1.0f / sqrtf(a / N + 1e-6f);
      for (int j = 0; j < N; ++j) Y[(size_t)i * N + j] = f2h_any(h2f(x[j]) * a * h2f(W[j]));
    } else if (!strncmp(name, "layernorm", 9)) {
      uint16_t *W = PTR(3, uint16_t), *B = PTR(4, uint16_t), *Y = PTR(5, uint16_t);
      for (int j = 0; j < N; ++j) a += h2f(x[j]), b += h2f(x[j]) * h2f(x[j]);
      a /= N; b = 1.0f / sqrtf(fmaxf(b / N - a * a, 0.0f) + 1e-5f);
      for (int j = 0; j < N; ++j) Y[(size_t)i * N + j] = f2h_any((h2f(x[j]) - a) * b * h2f(W[j]) + h2f(B[j]));
    } else if (!strncmp(name, "fp8_quant", 9)) {
      uint8_t *Q = PTR(3, uint8_t); float *S = PTR(4, float);
      for (int j = 0; j < N; ++j) a = fmaxf(a, fabsf(h2f(x[j])));
      S[i] = a = fmaxf(a, 1e-4f) / 448.0f;
      for (int j = 0; j < N; ++j) Q[(size_t)i * N + j] = f2e4m3(h2f(x[j]) / a);
    } else if (!strncmp(name, "col_sum", 7)) {
      float *S = PTR(3, float);
      for (int j = 0; j < N; ++j) S[j] += h2f(x[j]);
    } else if (!strncmp(name, "bias_gelu", 9)) {
      uint16_t *B = PTR(3, uint16_t), *Y = PTR(4, uint16_t);
      for (int j = 0; j < N; ++j) {
        float v = h2f(x[j]) + h2f(B[j]);
        Y[(size_t)i * N + j] = f2h_any(0.5f * v * (1.0f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v))));
      }
    } else return 0;
  }
  return 1;
}

static CUresult emulate(const char *name, unsigned shared, int fidx, void **args) {
  int elem = getenv("MOCK_ELEM") ? atoi(getenv("MOCK_ELEM")) : 2;
  if (shared > 48 * 1024 && smem_attr[fidx] < (int)shared) return CUDA_ERROR_INVALID_VALUE;
  if (!strncmp(name, "tile_copy", 9) || !strncmp(name, "copy_", 5)) {
    int M = P(1, int), N = P(2, int);
    if ((strstr(name, "aligned") || strstr(name, "vec8")) && ((P(0, CUdeviceptr) | P(3, CUdeviceptr)) % 16 || N % 8)) { sticky = CUDA_ERROR_MISALIGNED_ADDRESS; return CUDA_SUCCESS; }
    memcpy(PTR(3, char), PTR(0, char), (size_t)M * N * (strncmp(name, "copy_", 5) ? elem : 2));
  } else if (!strncmp(name, "row_scale", 9)) { /* X, M, N, S, Y, alpha */
    int M = P(1, int), N = P(2, int); float al = P(5, float); uint16_t *X = PTR(0, uint16_t), *Y = PTR(4, uint16_t); float *S = PTR(3, float);
    if (strstr(name, "aligned") && ((P(0, CUdeviceptr) | P(4, CUdeviceptr)) % 16 || N % 8)) { sticky = CUDA_ERROR_MISALIGNED_ADDRESS; return CUDA_SUCCESS; }
    for (int i = 0; i < M; ++i) for (int j = 0; j < N; ++j) Y[(size_t)i * N + j] = f2h(h2f(X[(size_t)i * N + j]) * S[i] * al);
  } else if (!strncmp(name, "bias_add", 8) || !strncmp(name, "col_scale", 9)) { /* X, M, N, V, Y */
    int M = P(1, int), N = P(2, int), add = name[0] == 'b'; float *X = PTR(0, float), *V = PTR(3, float), *Y = PTR(4, float);
    if (strstr(name, "aligned") && ((P(0, CUdeviceptr) | P(4, CUdeviceptr)) % 16 || N % 4)) { sticky = CUDA_ERROR_MISALIGNED_ADDRESS; return CUDA_SUCCESS; }
    for (int i = 0; i < M; ++i) for (int j = 0; j < N; ++j) { size_t k = (size_t)i * N + j; Y[k] = add ? X[k] + V[j] : X[k] * V[j]; }
  } else if (!strncmp(name, "axpy", 4)) {
    int M = P(1, int), N = P(2, int); float al = P(5, float); float *A = PTR(0, float), *B = PTR(3, float), *C = PTR(4, float);
    for (size_t i = 0; i < (size_t)M * N; ++i) C[i] = A[i] + al * B[i];
  } else if (!strcmp(name, "scale_cluster")) {
    int n = P(2, int); float s = P(3, float); uint8_t fl = P(4, uint8_t); uint16_t h = P(5, uint16_t); float *p = PTR(0, float), *q = PTR(1, float);
    for (int i = 0; i < n; ++i) q[i] = fl ? s * p[i] + h2f(h) : p[i];
  } else if (!strncmp(name, "scale", 5)) {
    int n = P(2, int); float s = P(3, float); float *p = PTR(0, float), *q = PTR(1, float);
    for (int i = 0; i < n; ++i) q[i] = s * p[i];
  } else if (!strncmp(name, "twice", 5)) {
    int M = P(1, int), N = P(2, int); float *A = PTR(0, float), *B = PTR(3, float), *C = PTR(4, float);
    for (size_t i = 0; i < (size_t)M * N; ++i) { B[i] = 2.0f * A[i]; C[i] = 3.0f * A[i]; }
  } else if (!strncmp(name, "batch_sum", 9)) {
    int K = P(1, int), M = P(2, int), N = P(3, int); uint16_t *A = PTR(0, uint16_t); float *C = PTR(4, float); size_t pl = (size_t)M * N;
    for (size_t i = 0; i < pl; ++i) { float s = 0; for (int k = 0; k < K; ++k) s += h2f(A[k * pl + i]); C[i] = s; }
  } else if (!strncmp(name, "compact", 7)) {
    int M = P(1, int), N = P(2, int), ld = P(3, int); uint16_t *X = PTR(0, uint16_t), *Y = PTR(4, uint16_t);
    for (int m = 0; m < M; ++m) memcpy(Y + (size_t)m * N, X + (size_t)m * ld, (size_t)N * 2);
  } else if (is_row_kernel(name)) {
    int N = P(2, int);  /* the aligned variants ask for at most 16-byte bases and N % 8 == 0 */
    if (strstr(name, "aligned") && (P(0, CUdeviceptr) % 16 || P(3, CUdeviceptr) % 16 || N % 8)) { sticky = CUDA_ERROR_MISALIGNED_ADDRESS; return CUDA_SUCCESS; }
    if (!row_kernel(name, args)) return CUDA_ERROR_NOT_FOUND;
  } else return CUDA_ERROR_NOT_FOUND;
  return CUDA_SUCCESS;
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned sh, CUstream s, void **args, void **extra) {
  (void)gx; (void)gy; (void)gz; (void)bx; (void)by; (void)bz; (void)s; (void)extra;
  if (!strcmp(names[(uintptr_t)(void *)f - 1], "scale_cluster")) return CUDA_ERROR_INVALID_VALUE; /* needs the cluster */
  return emulate(names[(uintptr_t)(void *)f - 1], sh, (int)(uintptr_t)(void *)f, args);
}
CUresult cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction f, void **args, void **extra) {
  (void)extra;
  if (c->numAttrs != 1 || c->attrs[0].id != CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION || c->gridDimX % c->attrs[0].value.clusterDim.x) return CUDA_ERROR_INVALID_VALUE;
  return emulate(names[(uintptr_t)(void *)f - 1], c->sharedMemBytes, (int)(uintptr_t)(void *)f, args);
}
