// smem_limit_shim.c: an LD_PRELOAD interposer that makes the real GPU look like one
// with less opt-in shared memory per block, so that the launcher's refusal of a
// kernel whose dynamic shared memory exceeds the device's limit (docs/robustness.md,
// the launcher table) is tested on the real driver; no GPU here has less than its
// target, so without it that refusal could only be tested against a mock.
//
// TLC_SHIM_SMEM_OPTIN=<bytes> is the pretended limit. Unset, empty or not a positive
// number: the shim forwards everything unchanged. Set, it changes two calls, as a
// device with that limit would answer them:
//   cuDeviceGetAttribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
//       returns min(real limit, pretended limit);
//   cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, v)
//       returns CUDA_ERROR_INVALID_VALUE when v plus the function's static shared
//       memory exceeds the pretended limit (what the driver does beyond the real one).
// Everything else goes to the real libcuda through dlsym(RTLD_NEXT, ...).
//
// Why these two symbols are the right level: a tlc launcher header calls the Driver
// API by name (the program links libcuda.so.1; no cuGetProcAddress, no dlopen), so
// its calls resolve through the dynamic linker, which searches LD_PRELOAD first. The
// test program checks that its own cuDeviceGetAttribute (the same lookup as the
// header's, in the same object) sees the pretended limit, so a shim that is not in
// effect fails the test instead of passing it silently.
//
// Built by scripts/build_gpu_tests.sh: gcc -shared -fPIC ... -ldl -> .gpu/lib/.
#define _GNU_SOURCE
#include <cuda.h>
#include <dlfcn.h>
#include <stdlib.h>

typedef CUresult (*GetAttributeFn)(int*, CUdevice_attribute, CUdevice);
typedef CUresult (*SetFuncAttributeFn)(CUfunction, CUfunction_attribute, int);
typedef CUresult (*GetFuncAttributeFn)(int*, CUfunction_attribute, CUfunction);

// The pretended limit in bytes, or -1 when the shim is off.
static long pretendedLimit(void) {
  const char* text = getenv("TLC_SHIM_SMEM_OPTIN");
  if (!text || !*text) return -1;
  char* end = NULL;
  long value = strtol(text, &end, 10);
  return *end == '\0' && value > 0 ? value : -1;
}

// The next definition of `name` after this library (libcuda's). Looked up on every
// call: these calls are rare (a launch's error path), and there is no state to race on.
static void* next(const char* name) { return dlsym(RTLD_NEXT, name); }

CUresult CUDAAPI cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice device) {
  GetAttributeFn real = (GetAttributeFn)next("cuDeviceGetAttribute");
  if (!real) return CUDA_ERROR_NOT_INITIALIZED;
  CUresult status = real(value, attribute, device);
  long limit = pretendedLimit();
  if (status == CUDA_SUCCESS && attribute == CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN && limit >= 0 &&
      limit < *value)
    *value = (int)limit;
  return status;
}

CUresult CUDAAPI cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute, int value) {
  SetFuncAttributeFn real = (SetFuncAttributeFn)next("cuFuncSetAttribute");
  if (!real) return CUDA_ERROR_NOT_INITIALIZED;
  long limit = pretendedLimit();
  if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES && limit >= 0) {
    GetFuncAttributeFn getAttribute = (GetFuncAttributeFn)next("cuFuncGetAttribute");
    int staticBytes = 0;
    if (!getAttribute) return CUDA_ERROR_NOT_INITIALIZED;
    CUresult status = getAttribute(&staticBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function);
    if (status != CUDA_SUCCESS) return status;
    if ((long long)value + staticBytes > limit) return CUDA_ERROR_INVALID_VALUE;
  }
  return real(function, attribute, value);
}
