// Unit tests for the C launcher header (src/backend/Header.cpp).
//
// A module is built by hand, its header generated, and then:
//  - key fragments are checked in the text;
//  - the header is compiled as C11 and C++17 with -Wall -Wextra -Werror, alone, next
//    to a second tlc header, and in two translation units of one linked program;
//  - the launcher logic runs on the CPU against a mock driver (the cu* functions it
//    calls, defined in the test program) that records every launch, so the grid,
//    the argument order, the variant choice and the argument checks are tested
//    without a GPU.
// The compiler steps use the CUDA headers CMake found (TLC_CUDA_INCLUDE_DIR); they
// fail, saying so, when cuda.h is not there: a missing toolkit is no pass.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "backend/Header.h"

namespace fs = std::filesystem;
using namespace tlc;

namespace {

#ifndef TLC_CUDA_INCLUDE_DIR
#error "TLC_CUDA_INCLUDE_DIR (the directory of cuda.h) comes from tests/CMakeLists.txt"
#endif
const char* kCudaInclude = TLC_CUDA_INCLUDE_DIR;
const char* kCudaStubs = TLC_CUDA_STUBS_DIR;  // libcuda.so, the Driver API stub

bool haveCudaHeader() { return fs::exists(fs::path(kCudaInclude) / "cuda.h"); }

// Fails the calling test case, naming the path, when cuda.h is missing.
#define REQUIRE_CUDA_HEADER() \
  REQUIRE_MESSAGE(haveCudaHeader(), "no cuda.h in " << std::string(kCudaInclude) << " (TLC_CUDA_INCLUDE_DIR, from CMake's CUDAToolkit)")

fs::path scratchDir() {
#ifdef TLC_BINARY_DIR
  fs::path dir = fs::path(TLC_BINARY_DIR) / "test_header_scratch";
#else
  fs::path dir = fs::temp_directory_path() / "tlc_test_header_scratch";
#endif
  fs::create_directories(dir);
  return dir;
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs a shell command; returns its exit status and puts its output in `log`.
int run(const std::string& command, std::string& log) {
  fs::path logPath = scratchDir() / "command.log";
  int status = std::system((command + " > " + logPath.string() + " 2>&1").c_str());
  std::ifstream in(logPath);
  std::stringstream text;
  text << in.rdbuf();
  log = text.str();
  return status;
}

ir::Param param(const std::string& name, ir::ParamKind kind, ir::DType varType,
                ir::DType elementType = ir::DType::Float32) {
  ir::Param p;
  p.name = name;
  p.kind = kind;
  p.var = ir::makeVar(name, varType);
  p.elementType = elementType;
  return p;
}

ir::ExprRef ceilDiv(const ir::ExprRef& a, int64_t b) {
  return ir::floorDiv(ir::add(a, ir::intImm(b - 1)), ir::intImm(b));
}

// tile_copy(A: Tensor((M, N), float16), B: Tensor((M, N), float16)) in two variants,
// params in Sema's order (A, M, N, B); then scale(p, q: ptr(float32), n: int32,
// s: float32, flag: bool, h: float16) with a 2x1x1 cluster and 100 KB of shared memory;
// then odd(stream: ptr(int8), int: int32) whose names collide with C.
ir::Module sampleModule() {
  ir::Module m;
  {
    ir::Kernel general;
    general.name = "tile_copy";
    general.sourceName = "tile_copy";
    general.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float16),
                      param("M", ir::ParamKind::Dim, ir::DType::Int32),
                      param("N", ir::ParamKind::Dim, ir::DType::Int32),
                      param("B", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float16)};
    general.grid[0] = ceilDiv(general.params[2].var, 128);
    general.grid[1] = ceilDiv(general.params[1].var, 128);
    general.threads = 128;
    general.dynamicSharedBytes = 32768;

    ir::Kernel fast = general;
    fast.name = "tile_copy_vec8";
    fast.assumptions = {{fast.params[0].var, 16}, {fast.params[3].var, 16}, {fast.params[2].var, 8}};
    fast.grid[0] = ceilDiv(fast.params[2].var, 1024);  // 8 elements per thread: its own grid
    m.kernels.push_back(fast);
    m.kernels.push_back(general);
  }
  {
    ir::Kernel k;
    k.name = "scale";
    k.sourceName = "scale";
    k.params = {param("p", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float32),
                param("q", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float32),
                param("n", ir::ParamKind::Scalar, ir::DType::Int32),
                param("s", ir::ParamKind::Scalar, ir::DType::Float32),
                param("flag", ir::ParamKind::Scalar, ir::DType::Bool),
                param("h", ir::ParamKind::Scalar, ir::DType::Float16)};
    k.grid[0] = ceilDiv(k.params[2].var, 1024);
    k.grid[1] = ir::intImm(2);
    k.threads = 256;
    k.clusterDims[0] = 2;
    k.dynamicSharedBytes = 100 * 1024;
    m.kernels.push_back(k);
  }
  {
    ir::Kernel k;
    k.name = "odd";
    k.sourceName = "odd";
    k.params = {param("stream", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Int8),
                param("int", ir::ParamKind::Dim, ir::DType::Int32)};
    k.grid[0] = ir::binary(ir::BinOp::Max, ir::floorMod(k.params[1].var, ir::intImm(7)), ir::intImm(1));
    // ceildiv as Sema may spell it: -((-x) // c); by a power of two it becomes a shift.
    ir::ExprRef negated = ir::unary(ir::UnOp::Neg, k.params[1].var);
    k.grid[1] = ir::unary(ir::UnOp::Neg, ir::floorDiv(negated, ir::intImm(3)));
    k.grid[2] = ir::unary(ir::UnOp::Neg, ir::floorDiv(negated, ir::intImm(4)));
    k.threads = 32;
    m.kernels.push_back(k);
  }
  return m;
}

std::string sampleHeader(const std::string& prefix = "sample") {
  HeaderOptions options;
  options.prefix = prefix;
  options.sourceName = "sample.tl";
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0xab};
  return generateHeader(sampleModule(), fakeCubin, options);
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// The mock driver: records the last launch. Signatures follow cuda.h exactly.
const char* kMockDriver = R"C(
static int mock_launches, mock_loads, mock_unloads, mock_smem_attr;
static unsigned mock_grid[3], mock_block[3], mock_shared, mock_cluster[3];
static unsigned char mock_arg_bytes[8][8];   /* the launcher's args, copied at launch */
static void *mock_args[8];
static char mock_kernel_name[64];
static struct CUkern_st { int dummy; } mock_kernel_storage[8];
static int mock_kernel_count;
static char mock_kernel_names[8][64];

CUresult cuInit(unsigned int flags) { (void)flags; return CUDA_SUCCESS; }
CUresult cuGetErrorName(CUresult error, const char **name) {
  *name = error == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_OTHER";
  return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult error, const char **text) { (void)error; *text = "mock"; return CUDA_SUCCESS; }
CUresult cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jo, void **jv,
                           unsigned int jn, CUlibraryOption *lo, void **lv, unsigned int ln) {
  (void)jo; (void)jv; (void)jn; (void)lo; (void)lv; (void)ln;
  if (((const unsigned char *)code)[0] != 0x7f) return CUDA_ERROR_INVALID_IMAGE;
  ++mock_loads;
  *library = (CUlibrary)(void *)&mock_loads;
  return CUDA_SUCCESS;
}
CUresult cuLibraryUnload(CUlibrary library) { (void)library; ++mock_unloads; return CUDA_SUCCESS; }
CUresult cuLibraryGetKernel(CUkernel *kernel, CUlibrary library, const char *name) {
  (void)library;
  strncpy(mock_kernel_names[mock_kernel_count], name, 63);
  *kernel = &mock_kernel_storage[mock_kernel_count++];
  return CUDA_SUCCESS;
}
CUresult cuKernelGetFunction(CUfunction *function, CUkernel kernel) {
  *function = (CUfunction)(void *)kernel;
  return CUDA_SUCCESS;
}
/* The device: its opt-in shared memory per block (an H100's by default; a test may
 * shrink it to a smaller GPU's), and the kernels' static shared memory. */
static int mock_smem_optin = 232448, mock_static_smem = 1024;
/* Its compute capability (an H100's by default). */
static int mock_cc_major = 9, mock_cc_minor = 0;
CUresult cuCtxGetDevice(CUdevice *device) { *device = 0; return CUDA_SUCCESS; }
CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice device) {
  (void)device;
  if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) *value = mock_cc_major;
  else if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR) *value = mock_cc_minor;
  else if (attribute == CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN) *value = mock_smem_optin;
  else return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}
CUresult cuFuncGetAttribute(int *value, CUfunction_attribute attribute, CUfunction f) {
  (void)f;
  if (attribute != CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES) return CUDA_ERROR_INVALID_VALUE;
  *value = mock_static_smem;
  return CUDA_SUCCESS;
}
CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute attribute, int value) {
  (void)f;
  if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (value + mock_static_smem > mock_smem_optin) return CUDA_ERROR_INVALID_VALUE; /* as the driver */
    mock_smem_attr = value;
  }
  return CUDA_SUCCESS;
}
static void mock_record(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, void **args) {
  ++mock_launches;
  mock_grid[0] = gx; mock_grid[1] = gy; mock_grid[2] = gz;
  mock_block[0] = bx; mock_block[1] = by; mock_block[2] = bz;
  mock_shared = shared;
  strcpy(mock_kernel_name, mock_kernel_names[(struct CUkern_st *)(void *)f - mock_kernel_storage]);
  {
    /* The kernels' parameter sizes, as the driver would know them from the cubin. */
    static const size_t copy_sizes[] = {8, 4, 4, 8}, scale_sizes[] = {8, 8, 4, 4, 1, 2}, odd_sizes[] = {8, 4};
    const size_t *sizes = strncmp(mock_kernel_name, "tile_copy", 9) == 0 ? copy_sizes
                        : strcmp(mock_kernel_name, "scale") == 0 ? scale_sizes : odd_sizes;
    size_t count = sizes == copy_sizes ? 4 : sizes == scale_sizes ? 6 : 2, i;
    for (i = 0; i < count; ++i) {
      memcpy(mock_arg_bytes[i], args[i], sizes[i]);
      mock_args[i] = mock_arg_bytes[i];
    }
  }
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, CUstream stream,
                        void **args, void **extra) {
  (void)stream; (void)extra;
  mock_cluster[0] = mock_cluster[1] = mock_cluster[2] = 1;
  mock_record(f, gx, gy, gz, bx, by, bz, shared, args);
  return CUDA_SUCCESS;
}
CUresult cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction f, void **args, void **extra) {
  (void)extra;
  if (c->numAttrs != 1 || c->attrs[0].id != CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) return CUDA_ERROR_UNKNOWN;
  mock_cluster[0] = c->attrs[0].value.clusterDim.x;
  mock_cluster[1] = c->attrs[0].value.clusterDim.y;
  mock_cluster[2] = c->attrs[0].value.clusterDim.z;
  mock_record(f, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY, c->blockDimZ,
              c->sharedMemBytes, args);
  return CUDA_SUCCESS;
}

static int failures;
#define EXPECT(cond) do { if (!(cond)) { printf("line %d: EXPECT(%s) failed\n", __LINE__, #cond); ++failures; } } while (0)
/* A refused call: CUDA_ERROR_INVALID_VALUE, and a message that holds `text`. */
#define EXPECT_REFUSED(call, text) do { \
    CUresult status_ = (call); \
    if (status_ != CUDA_ERROR_INVALID_VALUE || strstr(sample_last_error(), (text)) == NULL) { \
      printf("line %d: %s gave %d, '%s'; want CUDA_ERROR_INVALID_VALUE, '%s'\n", __LINE__, #call, \
             (int)status_, sample_last_error(), (text)); \
      ++failures; \
    } \
  } while (0)
)C";

const char* kMockTests = R"C(
int main(void) {
  CUdeviceptr a = 0x10000, b = 0x20000;
  int launches;

  /* tile_copy: aligned, N % 8 == 0 -> the vectorized variant; grid (ceil(N/128), ceil(M/128)). */
  EXPECT(tile_copy_select_variant(a, b, 1000, 1000) == 0);
  EXPECT(tile_copy_launch(a, b, 1000, 1000, NULL) == CUDA_SUCCESS);
  EXPECT(mock_loads == 1);
  EXPECT(strcmp(mock_kernel_name, "tile_copy_vec8") == 0);
  EXPECT(mock_grid[0] == 1 && mock_grid[1] == 8 && mock_grid[2] == 1);
  EXPECT(mock_block[0] == 128 && mock_block[1] == 1 && mock_block[2] == 1);
  EXPECT(mock_shared == 32768 && mock_smem_attr == 0);
  /* args in kernel-parameter order: A, M, N, B */
  EXPECT(*(CUdeviceptr *)mock_args[0] == a);
  EXPECT(*(int32_t *)mock_args[1] == 1000);
  EXPECT(*(int32_t *)mock_args[2] == 1000);
  EXPECT(*(CUdeviceptr *)mock_args[3] == b);

  /* N odd, or a pointer off 16 bytes -> the general variant. */
  EXPECT(tile_copy_launch(a, b, 1001, 999, NULL) == CUDA_SUCCESS);
  EXPECT(strcmp(mock_kernel_name, "tile_copy") == 0);
  EXPECT(mock_grid[0] == 8 && mock_grid[1] == 8);
  EXPECT(tile_copy_select_variant(a + 2, b, 64, 64) == 1);
  EXPECT(tile_copy_select_variant(a, b + 8, 64, 64) == 1);
  EXPECT(tile_copy_select_variant(a, b, 64, 68) == 1);
  EXPECT(tile_copy_launch(a + 2, b, 129, 130, NULL) == CUDA_SUCCESS);
  EXPECT(strcmp(mock_kernel_name, "tile_copy") == 0);
  EXPECT(mock_grid[0] == 2 && mock_grid[1] == 2);
  EXPECT(tile_copy_launch(a, b, 1, 1, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 1 && mock_grid[1] == 1);
  EXPECT(strcmp(tile_copy_variant_entry(0), "tile_copy_vec8") == 0);
  EXPECT(strcmp(tile_copy_variant_entry(1), "tile_copy") == 0);
  EXPECT(tile_copy_variant_entry(2) == NULL);

  /* Argument checks: no launch happens for any of these, and each failure's message
   * names the argument. A success (an empty grid: nothing to do) sets no message. */
  launches = mock_launches;
  EXPECT(tile_copy_launch(a, b, 0, 1000, NULL) == CUDA_SUCCESS);   /* empty grid */
  EXPECT(tile_copy_launch(0, 0, 1000, 0, NULL) == CUDA_SUCCESS);   /* empty, null is fine */
  EXPECT(strcmp(sample_last_error(), "") == 0);
  EXPECT_REFUSED(tile_copy_launch(a, b, -1, 1000, NULL),
                 "tile_copy_launch: CUDA_ERROR_INVALID_VALUE: dimension 'M' = -1 must not be negative");
  EXPECT_REFUSED(tile_copy_launch(a, b, 1000, -5, NULL), "dimension 'N' = -5 must not be negative");
  EXPECT_REFUSED(tile_copy_launch(a, b, INT32_MIN, -5, NULL), "dimension 'M' = -2147483648 must not be negative");
  EXPECT_REFUSED(tile_copy_launch(0, b, 10, 10, NULL), "argument 'A' is a null pointer");
  EXPECT_REFUSED(tile_copy_launch(a, 0, 10, 10, NULL), "argument 'B' is a null pointer");
  EXPECT_REFUSED(tile_copy_launch(0, 0, 10, 10, NULL), "argument 'A' is a null pointer");
  EXPECT_REFUSED(tile_copy_launch(a + 1, b, 10, 10, NULL),
                 "argument 'A' = 0x10001 is not aligned to its 2-byte float16 elements");
  EXPECT_REFUSED(tile_copy_launch(a, b + 3, 10, 10, NULL),
                 "argument 'B' = 0x20003 is not aligned to its 2-byte float16 elements");
  /* grid.y = ceil(M / 128) > 65535 */
  EXPECT_REFUSED(tile_copy_launch(a, b, 65536 * 128 + 1, 10, NULL),
                 "grid y = ceildiv(M, 128) = 65537 exceeds the device limit of 65535 blocks");
  EXPECT_REFUSED(tile_copy_launch(a, b, 65536 * 128, 10, NULL),   /* the first grid past the limit */
                 "grid y = ceildiv(M, 128) = 65536 exceeds the device limit of 65535 blocks");
  EXPECT_REFUSED(tile_copy_launch(a, b, INT32_MAX, 10, NULL),
                 "grid y = ceildiv(M, 128) = 16777216 exceeds the device limit of 65535 blocks");
  /* The failure's message is kept until the next failure (a success leaves it). */
  EXPECT(tile_copy_launch(a, b, 65535 * 128, 2147483647, NULL) == CUDA_SUCCESS);
  EXPECT(strstr(sample_last_error(), "grid y = ceildiv(M, 128) = 16777216") != NULL);

  /* <kernel>_info: the launch shape of each variant. */
  EXPECT(tile_copy_info(0) != NULL && strcmp(tile_copy_info(0)->entry, "tile_copy_vec8") == 0);
  EXPECT(tile_copy_info(0)->block[0] == 128 && tile_copy_info(0)->shared_bytes == 32768);
  EXPECT(tile_copy_info(1)->variant == 1 && tile_copy_info(1)->variant_count == 2);
  EXPECT(strcmp(tile_copy_info(1)->kernel, "tile_copy") == 0 && strcmp(tile_copy_info(1)->arch, "sm_90a") == 0);
  EXPECT(tile_copy_info(2) == NULL && tile_copy_info(-1) == NULL);
  EXPECT(scale_info(0)->cluster[0] == 2 && scale_info(0)->cluster[1] == 1);
  EXPECT(mock_grid[0] == 16777216 && mock_grid[1] == 65535);
  EXPECT(mock_launches == launches + 1);

  /* scale: int32 scalar n drives the grid; cluster launch; > 48 KB shared memory. */
  EXPECT(scale_launch(a, b, 1025, 2.5f, 1, 0x3c00, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 2 && mock_grid[1] == 2);
  EXPECT(mock_cluster[0] == 2 && mock_cluster[1] == 1 && mock_cluster[2] == 1);
  EXPECT(mock_smem_attr == 100 * 1024 && mock_shared == 100 * 1024);
  EXPECT(mock_block[0] == 256);
  EXPECT(*(int32_t *)mock_args[2] == 1025);
  EXPECT(*(float *)mock_args[3] == 2.5f);
  EXPECT(*(uint8_t *)mock_args[4] == 1);
  EXPECT(*(uint16_t *)mock_args[5] == 0x3c00);
  EXPECT(scale_launch(a, b, 1, 1.0f, 0, 0, NULL) == CUDA_ERROR_INVALID_VALUE); /* grid.x 1: not whole clusters */
  EXPECT_REFUSED(scale_launch(a, b, -3, 1.0f, 0, 0, NULL),
                 "scale_launch: CUDA_ERROR_INVALID_VALUE: argument 'n' = -3 must not be negative (it sizes the grid)");
  EXPECT_REFUSED(scale_launch(a + 2, b, 4096, 1.0f, 0, 0, NULL),
                 "argument 'p' = 0x10002 is not aligned to its 4-byte float32 elements");
  EXPECT_REFUSED(scale_launch(a, b + 6, 4096, 1.0f, 0, 0, NULL), "argument 'q' = 0x20006 is not aligned");
  /* 100 KB of shared memory on a device that allows 99 KB per block (an sm_86's
   * opt-in limit): refused with both numbers, nothing launched. */
  launches = mock_launches;
  mock_smem_optin = 101376;
  EXPECT_REFUSED(scale_launch(a, b, 4096, 1.0f, 0, 0, NULL),
                 "scale_launch: CUDA_ERROR_INVALID_VALUE: dynamic shared memory 102400 B (and 1024 B static) "
                 "exceeds the device's opt-in limit of 101376 B per block");
  /* Just within the limit: launched. */
  mock_smem_optin = 102400 + 1024;
  EXPECT(scale_launch(a, b, 4096, 1.0f, 0, 0, NULL) == CUDA_SUCCESS);
  EXPECT(mock_launches == launches + 1);
  mock_smem_optin = 232448;

  /* odd: parameters named like C words; grid = max(int % 7, 1). */
  EXPECT(odd_launch(a + 1, 13, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 6 && mock_grid[1] == 5 && mock_grid[2] == 4);
  EXPECT(*(int32_t *)mock_args[1] == 13);
  EXPECT(odd_launch(a, 14, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 1);

  /* load resolves every kernel once; unload and a relaunch load again. */
  EXPECT(sample_load() == CUDA_SUCCESS);
  EXPECT(mock_loads == 1);
  EXPECT(sample_unload() == CUDA_SUCCESS && mock_unloads == 1);
  EXPECT(sample_unload() == CUDA_SUCCESS && mock_unloads == 1);
  EXPECT(tile_copy_launch(a, b, 8, 8, NULL) == CUDA_SUCCESS);
  EXPECT(mock_loads == 2);
  EXPECT(strcmp(mock_kernel_name, "tile_copy_vec8") == 0);

  if (failures == 0) printf("mock driver: all checks passed\n");
  return failures != 0;
}
)C";

// Builds `program` (a header's checks against the mock driver) as C11 and as C++17
// with UBSan, and runs both: each build must succeed and each run exit 0. No libcuda:
// the mock defines what is used. -O2: GCC's -Wformat-truncation only looks at code
// it optimizes.
void buildAndRunMockProgram(const fs::path& dir, const std::string& stem, const std::string& program) {
  writeFile(dir / (stem + ".c"), program);
  writeFile(dir / (stem + ".cpp"), program);
  const std::string flags = " -Wall -Wextra -Werror -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  for (const char* build : {"gcc -std=c11", "g++ -std=c++17"}) {
    const bool cxx = build[1] == '+';
    const fs::path source = dir / (stem + (cxx ? ".cpp" : ".c")), binary = dir / (stem + (cxx ? "_cpp" : "_c"));
    REQUIRE_MESSAGE(run(std::string(build) + " -O2 -fsanitize=undefined -fno-sanitize-recover" + flags + " -o " +
                            binary.string() + " " + source.string(),
                        log) == 0,
                    log);
    CHECK_MESSAGE(run(binary.string(), log) == 0, log);
  }
}

}  // namespace

TEST_CASE("header: text has the guard, the cubin, the module API and the launchers") {
  std::string h = sampleHeader();
  CHECK(contains(h, "#ifndef TLC_SAMPLE_"));  // TLC_SAMPLE_<hash of the source name and cubin>_H
  CHECK(contains(h, "#include <cuda.h>"));
  CHECK(contains(h, "extern \"C\" {"));
  CHECK(contains(h, "Generated by tlc for sm_90a"));
  CHECK(contains(h, "sample.tl"));
  CHECK(contains(h, "TLC_ALIGNAS(64) static const unsigned char sample_cubin[18] =\n    \"\\177ELF\\2\\1\\0013\\0"));
  CHECK(contains(h, "static inline CUresult sample_load(void)"));
  CHECK(contains(h, "static inline CUresult sample_unload(void)"));
  CHECK(contains(h, "cuLibraryLoadData(&library, sample_cubin"));
  CHECK(contains(h, "__atomic_compare_exchange_n(&sample_library_"));
  CHECK(contains(h, "\"tile_copy_vec8\", \"tile_copy\", \"scale\", \"odd\""));
}

TEST_CASE("header: launch arguments are pointers, dims, scalars, stream; args in params order") {
  std::string h = sampleHeader();
  CHECK(contains(h, "static inline CUresult tile_copy_launch(CUdeviceptr A, CUdeviceptr B, int32_t M, "
                    "int32_t N, CUstream stream)"));
  CHECK(contains(h, "tlc_args[0] = &A;\n  tlc_args[1] = &M;\n  tlc_args[2] = &N;\n  tlc_args[3] = &B;"));
  CHECK(contains(h, "static inline CUresult scale_launch(CUdeviceptr p, CUdeviceptr q, int32_t n, float s, "
                    "uint8_t flag, uint16_t h, CUstream stream)"));
  // Names that collide with C or with the launcher's own get an underscore.
  CHECK(contains(h, "odd_launch(CUdeviceptr stream_, int32_t int_, CUstream stream)"));
}

TEST_CASE("header: variants are chosen by their assumptions, most specialized first") {
  std::string h = sampleHeader();
  CHECK(contains(h, "if (A % 16u == 0 && B % 16u == 0 && N % 8 == 0) return 0;\n  return 1;"));
  CHECK(contains(h, "variant 0: tile_copy_vec8, 128 threads, 32768 B shared, when A aligned to 16 bytes, "
                    "B aligned to 16 bytes, N % 8 == 0"));
  CHECK(contains(h, "tlc_status = sample_kernel_get_(0 + tlc_variant, &tlc_kernel);"));
  // The variants' grids differ: the chosen variant decides it.
  CHECK(contains(h, "  switch (tlc_variant) {\n    case 0:\n      /* grid = (ceildiv(N, 1024), ceildiv(M, 128), 1) */"));
  CHECK(contains(h, "    default:\n      /* grid = (ceildiv(N, 128), ceildiv(M, 128), 1) */"));
  CHECK(contains(h, "tlc_status = sample_kernel_get_(2 + tlc_variant, &tlc_kernel);"));
}

TEST_CASE("header: grid, argument checks, cluster launch and large shared memory") {
  std::string h = sampleHeader();
  CHECK(contains(h, "/* grid = (ceildiv(n, 1024), 2, 1) */"));
  CHECK(contains(h, "/* grid = (max(floormod(int_, 7), 1), ceildiv(int_, 3), ceildiv(int_, 4)) */"));
  // The IR builders may turn `// 128` into `>> 7`: either is fine, both evaluate checked.
  CHECK((contains(h, "tlc_grid_x = sample_floordiv_(sample_add_((int64_t)N, 127, &tlc_bad), 128, &tlc_bad);") ||
         contains(h, "tlc_grid_x = sample_shr_(sample_add_((int64_t)N, 127, &tlc_bad), 7, &tlc_bad);")));
  CHECK(contains(h, "tlc_grid_x = sample_max_(sample_floormod_((int64_t)int_, 7, &tlc_bad), 1, &tlc_bad);"));
  // Each refusal names its argument.
  CHECK(contains(h, "  if (M < 0)\n    return sample_refuse_(\"dimension 'M' = %lld must not be negative\", (long long)M);"));
  CHECK(contains(h, "  if (A == 0)\n    return sample_refuse_(\"argument 'A' is a null pointer\");"));
  CHECK(contains(h, "  if (B % 2u != 0)\n    return sample_refuse_(\"argument 'B' = 0x%llx is not aligned to its 2-byte "
                    "float16 elements\",\n"));
  CHECK(contains(h, "  if (n < 0)\n    return sample_refuse_(\"argument 'n' = %lld must not be negative (it sizes the "
                    "grid)\""));  // int32 scalar in the grid
  CHECK(contains(h, "  if (tlc_grid_y > 65535)\n"));
  // A constant axis (scale's y = 2) was checked by the compiler: no run-time check.
  CHECK(!contains(h, "grid y = 2 = "));
  CHECK(contains(h, "__attribute__((format(printf, 1, 2)))"));
  CHECK(contains(h, "CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION"));
  CHECK(contains(h, "cuLaunchKernelEx(&tlc_config, tlc_function, tlc_args, NULL)"));
  CHECK(contains(h, "CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES"));
  CHECK(contains(h, "uint8_t tlc_flag = (uint8_t)(flag != 0);"));
}

TEST_CASE("header: identifiers are sanitized") {
  HeaderOptions options;
  options.prefix = "3d-conv.v2";
  ir::Module m = sampleModule();
  m.kernels.resize(2);
  for (ir::Kernel& k : m.kernels) k.sourceName = "copy-it";
  std::string h = generateHeader(m, {1, 2, 3}, options);
  CHECK(contains(h, "#ifndef TLC_K3D_CONV_V2_"));
  CHECK(contains(h, "k3d_conv_v2_cubin[4]"));
  CHECK(contains(h, "copy_it_launch("));
}

TEST_CASE("header: compiles cleanly as C11 and C++17, alone, with another header, in two TUs") {
  REQUIRE_CUDA_HEADER();
  fs::path dir = scratchDir();
  writeFile(dir / "sample.h", sampleHeader("sample"));
  writeFile(dir / "other.h", [] {
    ir::Module m = sampleModule();
    m.kernels.resize(2);  // tile_copy only, renamed below: two headers, distinct kernels
    for (ir::Kernel& k : m.kernels) k.sourceName = "other_copy";
    HeaderOptions options;
    options.prefix = "other";
    return generateHeader(m, {0x7f, 1, 2}, options);
  }());
  const std::string use =
      "#include \"sample.h\"\n#include \"sample.h\"\n#include \"other.h\"\n"
      "CUresult use_them(CUdeviceptr x, CUstream s);\n"
      "CUresult use_them(CUdeviceptr x, CUstream s) {\n"
      "  CUresult r = tile_copy_launch(x, x, 4, 8, s);\n"
      "  if (r == CUDA_SUCCESS) r = other_copy_launch(x, x, 4, 8, s);\n"
      "  return r;\n}\n";
  writeFile(dir / "use.c", use);
  writeFile(dir / "use.cpp", use);
  writeFile(dir / "main.cpp",
            "#include \"sample.h\"\nCUresult use_them(CUdeviceptr x, CUstream s);\n"
            "int main() { return use_them(0, nullptr) == CUDA_SUCCESS && sample_load() == CUDA_SUCCESS; }\n");

  const std::string flags = " -Wall -Wextra -Werror -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  INFO(log);
  CHECK_MESSAGE(run("gcc -std=c11 -fsyntax-only" + flags + " " + (dir / "use.c").string(), log) == 0, log);
  CHECK_MESSAGE(run("gcc -std=c11 -pedantic -Wno-pedantic -fsyntax-only" + flags + " " + (dir / "use.c").string(), log) == 0, log);
  CHECK_MESSAGE(run("g++ -std=c++17 -fsyntax-only" + flags + " " + (dir / "use.cpp").string(), log) == 0, log);
  // clang too, where one is installed.
  CHECK_MESSAGE(run("command -v clang >/dev/null || exit 0; clang -std=c11 -fsyntax-only" + flags + " " +
                        (dir / "use.c").string() + " && clang++ -std=c++17 -Wpedantic -fsyntax-only" + flags +
                        " " + (dir / "use.cpp").string(),
                    log) == 0,
                log);

  // Two translation units of one program both include sample.h: it must link.
  fs::path stub = fs::path(kCudaStubs) / "libcuda.so";
  REQUIRE_MESSAGE(fs::exists(stub), "no Driver API stub " << stub.string() << " (TLC_CUDA_STUBS_DIR, from CMake)");
  CHECK_MESSAGE(run("g++ -std=c++17" + flags + " -o " + (dir / "two_tus").string() + " " +
                        (dir / "use.cpp").string() + " " + (dir / "main.cpp").string() + " -L" + kCudaStubs +
                        " -lcuda",
                    log) == 0,
                log);
}

TEST_CASE("header: a kernel without parameters and a module without kernels compile") {
  REQUIRE_CUDA_HEADER();
  fs::path dir = scratchDir();
  ir::Module one;
  ir::Kernel k;
  k.name = k.sourceName = "fixed";
  k.grid[0] = ir::intImm(4);
  one.kernels.push_back(k);
  HeaderOptions options;
  options.prefix = "fixed_module";
  std::string h = generateHeader(one, {0x7f}, options);
  CHECK(contains(h, "static inline CUresult fixed_launch(CUstream stream)"));
  CHECK(contains(h, "static inline int fixed_select_variant(void)"));
  writeFile(dir / "fixed.h", h);
  options.prefix = "empty_module";
  writeFile(dir / "empty.h", generateHeader(ir::Module{}, {}, options));
  writeFile(dir / "fixed.c", "#include \"fixed.h\"\n#include \"empty.h\"\n"
                             "CUresult f(CUstream s);\nCUresult f(CUstream s) { return fixed_launch(s); }\n");
  writeFile(dir / "fixed.cpp", "#include \"fixed.h\"\n#include \"empty.h\"\n");
  const std::string flags = " -Wall -Wextra -Werror -Wpedantic -fsyntax-only -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  CHECK_MESSAGE(run("gcc -std=c11" + flags + " " + (dir / "fixed.c").string(), log) == 0, log);
  CHECK_MESSAGE(run("g++ -std=c++17" + flags + " " + (dir / "fixed.cpp").string(), log) == 0, log);
}

TEST_CASE("header: the launcher logic, run against a mock driver") {
  REQUIRE_CUDA_HEADER();
  fs::path dir = scratchDir();
  writeFile(dir / "sample.h", sampleHeader("sample"));
  const std::string program = std::string("#include <stdio.h>\n#include <string.h>\n#include \"sample.h\"\n") +
                              kMockDriver + kMockTests;
  buildAndRunMockProgram(dir, "mock", program);
}

// A kernel whose every variant needs a tensor map (tile::gather4 on sm_100a): the
// launcher encodes it for the one variant there is, passes it, and when the driver
// refuses it (a base off 16 bytes, a row stride off 16 bytes, an empty dimension)
// fails the launch with a message instead of running without it; an empty grid is
// still a successful no-op.
TEST_CASE("header: a last variant with a tensor map encodes it, and a refused map fails the launch") {
  REQUIRE_CUDA_HEADER();
  ir::Module m;
  ir::Kernel k;
  k.name = "gather";
  k.sourceName = "gather";
  k.params = {param("src", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float16),
              param("R", ir::ParamKind::Dim, ir::DType::Int32), param("K", ir::ParamKind::Dim, ir::DType::Int32),
              param("src_tmap", ir::ParamKind::TensorMap, ir::DType::Handle, ir::DType::Float16)};
  auto tensor = std::make_shared<ir::Buffer>();
  tensor->name = "src";
  tensor->dtype = ir::DType::Float16;
  tensor->scope = ir::MemScope::Global;
  tensor->shape = {k.params[1].var, k.params[2].var};
  tensor->strides = {k.params[2].var, ir::intImm(1)};
  tensor->data = k.params[0].var;
  k.params[3].tensorMap = std::make_shared<ir::TensorMapInfo>();
  k.params[3].tensorMap->tensor = tensor;
  k.params[3].tensorMap->box = {1, 64};
  k.grid[0] = ceilDiv(k.params[2].var, 64);
  k.threads = 128;
  m.kernels.push_back(k);
  HeaderOptions options;
  options.prefix = "sample";
  options.sourceName = "gather.tl";
  options.arch = "sm_100a";
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0xab};
  std::string header = generateHeader(m, fakeCubin, options);
  CHECK(contains(header, "tlc_status = cuTensorMapEncodeTiled(&tlc_0_src_tmap"));
  CHECK(contains(header, "no TMA tensor map for 'src'"));

  const char* tests = R"C(
static int mock_encodes;
static cuuint64_t mock_dims[2], mock_strides[1];
static cuuint32_t mock_box[2];
static const CUtensorMap *mock_map;
CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank, void *address,
                                const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
                                const cuuint32_t *steps, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion promotion, CUtensorMapFloatOOBfill fill) {
  (void)steps; (void)promotion; (void)fill;
  ++mock_encodes;
  if (type != CU_TENSOR_MAP_DATA_TYPE_FLOAT16 || rank != 2 || interleave != CU_TENSOR_MAP_INTERLEAVE_NONE ||
      swizzle != CU_TENSOR_MAP_SWIZZLE_NONE)
    return CUDA_ERROR_UNKNOWN;
  memcpy(mock_dims, dims, sizeof mock_dims);
  memcpy(mock_strides, strides, sizeof mock_strides);
  memcpy(mock_box, box, sizeof mock_box);
  if ((uintptr_t)address % 16 != 0 || strides[0] % 16 != 0 || dims[0] == 0 || dims[1] == 0) return CUDA_ERROR_INVALID_VALUE;
  memset(map, 0x5a, sizeof *map);
  mock_map = map;
  return CUDA_SUCCESS;
}
int main(void) {
  /* Aligned: the map (box 64 x 1: one row) is encoded and the launch runs. */
  EXPECT(gather_launch(0x10000, 100, 192, NULL) == CUDA_SUCCESS);
  EXPECT(mock_encodes == 1 && mock_launches == 1 && mock_grid[0] == 3);
  EXPECT(mock_dims[0] == 192 && mock_dims[1] == 100 && mock_strides[0] == 384 && mock_box[0] == 64 && mock_box[1] == 1);
  /* A base 2 bytes off 16: the driver refuses the map; nothing runs. */
  EXPECT_REFUSED(gather_launch(0x10002, 100, 192, NULL), "no TMA tensor map for 'src' (cuTensorMapEncodeTiled: 1)");
  /* Rows of 36 halves = 72 bytes: refused too. */
  EXPECT_REFUSED(gather_launch(0x10000, 100, 36, NULL), "no TMA tensor map for 'src'");
  EXPECT(mock_launches == 1);
  /* K == 0: the grid is empty, a successful no-op. R == 0: no map, refused. */
  EXPECT(gather_launch(0x10000, 100, 0, NULL) == CUDA_SUCCESS && mock_launches == 1);
  EXPECT_REFUSED(gather_launch(0x10000, 0, 64, NULL), "no TMA tensor map for 'src'");
  EXPECT(mock_launches == 1);
  /* What the driver would refuse is settled before it is asked (a failing driver
   * call is an API error under compute-sanitizer): the base off 16, the 72-byte row
   * stride and the empty dimension above made no call; only the first launch did. */
  EXPECT(mock_encodes == 1);
  /* Row strides that are multiples of 16 bytes are encoded and run: 8 halves (16 B),
   * 24 halves (48 B); 12 halves (24 B) and 4 halves (8 B) are refused, uncalled. */
  EXPECT(gather_launch(0x10000, 100, 8, NULL) == CUDA_SUCCESS && mock_strides[0] == 16);
  EXPECT(gather_launch(0x10000, 100, 24, NULL) == CUDA_SUCCESS && mock_strides[0] == 48);
  EXPECT(mock_encodes == 3 && mock_launches == 3);
  EXPECT_REFUSED(gather_launch(0x10000, 100, 12, NULL), "no TMA tensor map for 'src'");
  EXPECT_REFUSED(gather_launch(0x10000, 100, 4, NULL), "no TMA tensor map for 'src'");
  EXPECT(mock_encodes == 3 && mock_launches == 3);
  if (failures == 0) printf("all gather launcher checks passed\n");
  return failures ? 1 : 0;
}
)C";
  fs::path dir = scratchDir();
  writeFile(dir / "sample_gather.h", header);
  writeFile(dir / "mock_gather.c", std::string("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
                                               "#include \"sample_gather.h\"\n") +
                                       kMockDriver + tests);
  const std::string flags = " -Wall -Wextra -Werror -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  REQUIRE_MESSAGE(run("gcc -std=c11 -O2 -fsanitize=undefined -fno-sanitize-recover" + flags + " -o " +
                          (dir / "mock_gather").string() + " " + (dir / "mock_gather.c").string(),
                      log) == 0,
                  log);
  CHECK_MESSAGE(run((dir / "mock_gather").string(), log) == 0, log);
}

// A refusal's message is a printf format: the text it quotes (a requirement's
// description, which holds the IR printer's expression text) must print verbatim,
// with its '%' (a floormod), '"' and '\' escaped for the format and the C literal.
// Lowering's float4_e2m1fn row requirement is the text reached today; the second
// description stands for any text a requirement may quote.
TEST_CASE("header: a refusal quoting text with % \" and \\ prints it verbatim") {
  REQUIRE_CUDA_HEADER();
  ir::Module m;
  ir::Kernel k;
  k.name = "pack";
  k.sourceName = "pack";
  k.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float4E2M1),
              param("N", ir::ParamKind::Dim, ir::DType::Int32), param("K", ir::ParamKind::Dim, ir::DType::Int32)};
  ir::ExprRef N = k.params[1].var, K = k.params[2].var;
  k.requirements.push_back({ir::add(ir::mul(ir::floorMod(N, ir::intImm(7)), ir::intImm(2)), K), 2,
                            "the last dimension of float4_e2m1fn tensor 'A' ((N % 7) * 2 + K)",
                            " (fp4 is packed two to a byte: rows must be whole bytes)"});
  k.requirements.push_back({N, 2, "the rows of \"A\" (named \"A\\\\N\", 100% packed: %d %s %n)"});
  k.grid[0] = ir::intImm(1);
  k.threads = 32;
  m.kernels.push_back(k);
  HeaderOptions options;
  options.prefix = "sample";
  options.sourceName = "pack.tl";
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0xab};
  std::string header = generateHeader(m, fakeCubin, options);
  const char* tests = R"C(
int main(void) {
  /* K odd: (N % 7) * 2 + K is odd. */
  EXPECT_REFUSED(pack_launch(0x10000, 10, 5, NULL),
                 "pack_launch: CUDA_ERROR_INVALID_VALUE: the last dimension of float4_e2m1fn tensor 'A' "
                 "((N % 7) * 2 + K) = 11 is not a multiple of 2 (fp4 is packed two to a byte: rows must be whole bytes)");
  EXPECT(strcmp(strstr(sample_last_error(), "the last"),
                "the last dimension of float4_e2m1fn tensor 'A' ((N % 7) * 2 + K) = 11 is not a multiple of 2 "
                "(fp4 is packed two to a byte: rows must be whole bytes)") == 0);
  /* K even, N odd: the second description, quotes, backslash and percent signs as written. */
  EXPECT_REFUSED(pack_launch(0x10000, 9, 4, NULL),
                 "pack_launch: CUDA_ERROR_INVALID_VALUE: the rows of \"A\" (named \"A\\\\N\", 100% packed: %d %s %n) "
                 "= 9 is not a multiple of 2");
  EXPECT(pack_launch(0x10000, 8, 4, NULL) == CUDA_SUCCESS && mock_launches == 1);
  if (failures == 0) printf("all message checks passed\n");
  return failures ? 1 : 0;
}
)C";
  fs::path dir = scratchDir();
  writeFile(dir / "sample_pack.h", header);
  const std::string program = std::string("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
                                          "#include \"sample_pack.h\"\n") +
                              kMockDriver + tests;
  buildAndRunMockProgram(dir, "mock_pack", program);
}

// Several architectures, each lowered for its own target: the header launches only
// the variants built for the architecture whose cubin the device loads (sm_80's on an
// sm_86, sm_90a's on a 9.0 device), and loads only that architecture's kernels.
TEST_CASE("header: a multi-architecture header runs each architecture's own variants") {
  REQUIRE_CUDA_HEADER();
  auto tileCopy = [](const std::string& fastName, bool assumeB) {
    ir::Module m;
    ir::Kernel general;
    general.name = "tile_copy";
    general.sourceName = "tile_copy";
    general.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float16),
                      param("M", ir::ParamKind::Dim, ir::DType::Int32),
                      param("N", ir::ParamKind::Dim, ir::DType::Int32),
                      param("B", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float16)};
    general.grid[0] = ceilDiv(general.params[2].var, 128);
    general.grid[1] = ceilDiv(general.params[1].var, 128);
    general.threads = 128;
    ir::Kernel fast = general;
    fast.name = fastName;
    fast.assumptions = {{fast.params[0].var, 16}, {assumeB ? fast.params[3].var : fast.params[2].var, assumeB ? 16 : 8}};
    m.kernels.push_back(fast);
    m.kernels.push_back(general);
    return m;
  };
  const ir::Module ampere = tileCopy("tile_copy_vec8", false), hopper = tileCopy("tile_copy_aligned", true);
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0xab};
  HeaderOptions options;
  options.prefix = "sample";
  options.sourceName = "multi.tl";
  std::string header = generateMultiArchHeader({{"sm_80", &ampere, fakeCubin}, {"sm_90a", &hopper, fakeCubin}}, options);
  CHECK(contains(header, "variant 0 (sm_80): tile_copy_vec8"));
  CHECK(contains(header, "variant 2 (sm_90a): tile_copy_aligned"));

  const char* tests = R"C(
int main(void) {
  CUdeviceptr a = 0x10000, b = 0x20000;
  /* A 9.0 device: the sm_90a cubin and its variants (2: aligned, 3: general). */
  EXPECT(strcmp(sample_arch(), "sm_90a") == 0);
  EXPECT(tile_copy_select_variant(a, b, 100, 100) == 2);
  EXPECT(tile_copy_select_variant(a, b + 2, 100, 100) == 3);
  EXPECT(tile_copy_launch(a, b, 100, 100, NULL) == CUDA_SUCCESS && strcmp(mock_kernel_name, "tile_copy_aligned") == 0);
  EXPECT(tile_copy_launch(a, b + 2, 100, 100, NULL) == CUDA_SUCCESS && strcmp(mock_kernel_name, "tile_copy") == 0);
  EXPECT(sample_unload() == CUDA_SUCCESS);
  /* An sm_86 device: the sm_80 cubin; its fast variant assumes N % 8, not B. */
  mock_cc_major = 8; mock_cc_minor = 6;
  mock_kernel_count = 0;
  EXPECT(sample_load() == CUDA_SUCCESS && mock_kernel_count == 2); /* sm_80's two kernels, no more */
  EXPECT(strcmp(sample_arch(), "sm_80") == 0);
  EXPECT(tile_copy_select_variant(a, b + 2, 100, 104) == 0);
  EXPECT(tile_copy_select_variant(a, b, 100, 100) == 1);
  EXPECT(tile_copy_launch(a, b + 2, 100, 104, NULL) == CUDA_SUCCESS && strcmp(mock_kernel_name, "tile_copy_vec8") == 0);
  EXPECT(sample_unload() == CUDA_SUCCESS);
  /* A 7.5 device: no cubin fits; nothing is launched. */
  mock_cc_major = 7; mock_cc_minor = 5;
  EXPECT(tile_copy_select_variant(a, b, 100, 100) == -1);
  EXPECT(tile_copy_launch(a, b, 100, 100, NULL) == CUDA_ERROR_NO_BINARY_FOR_GPU);
  EXPECT(sample_arch() == NULL);
  if (failures == 0) printf("all multi-architecture launcher checks passed\n");
  return failures ? 1 : 0;
}
)C";
  fs::path dir = scratchDir();
  writeFile(dir / "sample_multi.h", header);
  const std::string program = std::string("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
                                          "#include \"sample_multi.h\"\n") +
                              kMockDriver + tests;
  buildAndRunMockProgram(dir, "mock_multi", program);
}

// The embedded cubin is the cubin, byte for byte: every byte value, escapes followed
// by digits (which a short octal escape would swallow), '?' (trigraphs), quotes and
// backslashes, read back by a C and a C++ program. Include guards differ between
// headers of one prefix from different sources or cubins, and not between runs.
TEST_CASE("header: the cubin is embedded byte for byte; guards follow the contents") {
  REQUIRE_CUDA_HEADER();
  std::vector<uint8_t> bytes = {0x7f, 'E', 'L', 'F'};
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(uint8_t(i));
    bytes.push_back(uint8_t('0' + i % 10));
  }
  for (const char* tricky : {"?\?=", "\"\\", "\0\0""1", "\1""8", "\177""7"}) bytes.insert(bytes.end(), tricky, tricky + 3);
  ir::Module m = sampleModule();
  HeaderOptions options;
  options.prefix = "bytes";
  options.sourceName = "bytes.tl";
  const std::string header = generateHeader(m, bytes, options);
  CHECK(header == generateHeader(m, bytes, options));
  HeaderOptions otherSource = options;
  otherSource.sourceName = "other/bytes.tl";
  auto guardOf = [](const std::string& h) { return h.substr(h.find("#ifndef "), h.find('\n', h.find("#ifndef ")) - h.find("#ifndef ")); };
  CHECK(guardOf(header) != guardOf(generateHeader(m, bytes, otherSource)));
  std::vector<uint8_t> otherBytes = bytes;
  otherBytes.back() ^= 1;
  CHECK(guardOf(header) != guardOf(generateHeader(m, otherBytes, options)));

  fs::path dir = scratchDir();
  writeFile(dir / "bytes.h", header);
  std::string expected;
  for (uint8_t b : bytes) expected += std::to_string(b) + ",";
  const std::string program = std::string("#include <stdio.h>\n#include \"bytes.h\"\n") +
                              "int main(void) {\n  size_t i;\n"
                              "  if (sizeof bytes_cubin != " + std::to_string(bytes.size() + 1) + ") return 2;\n"
                              "  for (i = 0; i + 1 < sizeof bytes_cubin; ++i) printf(\"%d,\", bytes_cubin[i]);\n"
                              "  return 0;\n}\n";
  writeFile(dir / "bytes.c", program);
  writeFile(dir / "bytes.cpp", program);
  const std::string flags = " -Wall -Wextra -Werror -Wno-unused-function -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  for (const char* compiler : {"gcc -std=c11", "g++ -std=c++17"}) {
    const std::string source = (dir / (compiler[1] == 'c' ? "bytes.c" : "bytes.cpp")).string();
    REQUIRE_MESSAGE(run(std::string(compiler) + flags + " -o " + (dir / "bytes").string() + " " + source, log) == 0, log);
    CHECK(run((dir / "bytes").string(), log) == 0);
    CHECK(log == expected);
  }
}

// A parameter may be named like anything the header's C must not be shadowed by or
// expanded into: C23 / C++20 keywords, the C library's macros and functions, the CUDA
// driver's names and macros, the header's own functions. Each becomes a clean
// argument name; the header compiles as C11, C2x, C++17 and C++20; and a dimension
// named CUDA_SUCCESS no longer turns `return CUDA_SUCCESS` into its value.
TEST_CASE("header: parameter names that clash with C, the driver or the header itself") {
  REQUIRE_CUDA_HEADER();
  const std::vector<std::string> hostile = {
      "requires", "concept", "co_await", "char8_t", "typeof", "constinit", "INT32_MAX", "UINT8_C", "EOF", "FILE",
      "stdin", "errno", "memset", "vsnprintf", "va_start", "NULL", "size_t", "my_t", "CUDA_VERSION",
      "cuLaunchKernel", "cuMemAlloc", "CUresult", "CU_LAUNCH_PARAM_END", "TLC_ALIGNAS", "tlc_bad", "_Reserved",
      "__x", "clash_load", "clash_fail_", "names_launch_", "names_select_variant", "requires_", "stream"};
  ir::Module m;
  {
    ir::Kernel k;
    k.name = "names";
    k.sourceName = "names";
    k.params.push_back(param("p", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float32));
    for (const std::string& name : hostile) k.params.push_back(param(name, ir::ParamKind::Dim, ir::DType::Int32));
    ir::ExprRef grid = ir::intImm(1);
    for (size_t i = 1; i < k.params.size(); ++i) grid = ir::binary(ir::BinOp::Max, grid, k.params[i].var);
    k.grid[0] = grid;
    k.threads = 32;
    m.kernels.push_back(k);
  }
  {
    ir::Kernel k;  // "odd": the mock driver knows its two parameters (8 and 4 bytes)
    k.name = "odd";
    k.sourceName = "odd";
    k.params = {param("EOF", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Int8),
                param("CUDA_SUCCESS", ir::ParamKind::Dim, ir::DType::Int32)};
    k.grid[0] = k.params[1].var;
    k.threads = 32;
    m.kernels.push_back(k);
  }
  HeaderOptions options;
  options.prefix = "clash";
  options.sourceName = "clash.tl";
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0xab};
  const std::string header = generateHeader(m, fakeCubin, options);
  CHECK(contains(header, "int32_t requires__, int32_t concept_"));  // `requires_` is the user's own
  CHECK(contains(header, "int32_t requires_, int32_t stream_, CUstream stream)"));
  CHECK(contains(header, "int32_t arg_Reserved, int32_t arg__x, int32_t arg_clash_load, int32_t arg_clash_fail_"));
  CHECK(contains(header, "odd_launch(CUdeviceptr EOF_, int32_t CUDA_SUCCESS_, CUstream stream)"));

  std::string tests = R"C(
int main(void) {
  /* CUDA_SUCCESS = 5 blocks: the launch runs, and returns success, not 5. */
  EXPECT(odd_launch(0x10000, 5, NULL) == CUDA_SUCCESS);
  EXPECT(mock_launches == 1 && mock_grid[0] == 5);
  EXPECT(*(int32_t *)mock_args[1] == 5);
  if (failures == 0) printf("all clash checks passed\n");
  return failures ? 1 : 0;
}
)C";
  std::string driver = kMockDriver;
  // The mock's refusal macro names the sample prefix; this header's is clash_.
  for (size_t at = driver.find("sample_last_error"); at != std::string::npos; at = driver.find("sample_last_error"))
    driver.replace(at, 6, "clash");
  fs::path dir = scratchDir();
  writeFile(dir / "clash.h", header);
  const std::string program = std::string("#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n"
                                          "#include \"clash.h\"\n") +
                              driver + tests;
  writeFile(dir / "clash.c", program);
  writeFile(dir / "clash.cpp", program);
  const std::string flags = " -Wall -Wextra -Werror -Wno-unused-function -I" + std::string(kCudaInclude) + " -I" + dir.string();
  std::string log;
  for (const char* compiler : {"gcc -std=c11", "gcc -std=c2x", "g++ -std=c++17", "g++ -std=c++20"}) {
    const std::string source = (dir / (compiler[1] == 'c' ? "clash.c" : "clash.cpp")).string();
    REQUIRE_MESSAGE(run(std::string(compiler) + " -O2" + flags + " -o " + (dir / "clash").string() + " " + source, log) == 0,
                    compiler << ": " << log);
    CHECK_MESSAGE(run((dir / "clash").string(), log) == 0, compiler << ": " << log);
  }
}

// The escaping is one-to-one: escaped names move out of the way of the names that
// need none, and -Wshadow finds nothing.
TEST_CASE("header: parameter names never collide with each other or with the header's own names") {
  ir::Module m;
  ir::Kernel k;
  k.name = k.sourceName = "names";
  k.params = {param("int", ir::ParamKind::Scalar, ir::DType::Int32),
              param("int_", ir::ParamKind::Scalar, ir::DType::Int32),
              param("tlc_args", ir::ParamKind::Scalar, ir::DType::Int32),
              param("CUDA_SUCCESS", ir::ParamKind::Scalar, ir::DType::Int32),
              param("names_fail_", ir::ParamKind::Scalar, ir::DType::Int32)};
  k.grid[0] = ir::intImm(1);
  m.kernels.push_back(k);
  HeaderOptions options;
  options.prefix = "names";
  std::string h = generateHeader(m, {0x7f}, options);
  // `int_` is the user's own name and keeps it; the escaped `int` moves on to `int__`.
  CHECK(contains(h, "names_launch(int32_t int__, int32_t int_, int32_t tlc_args_, int32_t CUDA_SUCCESS_, "
                    "int32_t arg_names_fail_, CUstream stream)"));
  REQUIRE_CUDA_HEADER();
  fs::path dir = scratchDir();
  writeFile(dir / "names.h", h);
  writeFile(dir / "names.c", "#include \"names.h\"\n");
  std::string log;
  CHECK_MESSAGE(run("gcc -std=c11 -Wall -Wextra -Werror -Wshadow -fsyntax-only -I" + std::string(kCudaInclude) + " -I" +
                        dir.string() + " " + (dir / "names.c").string(),
                    log) == 0,
                log);
}

// fuzz_backend (fuzz_headers.sh): an architecture whose only variant keeps an
// assumption (cp.async alignment) is tested for its architecture alone, so the
// argument the assumption names goes unused in _select_variant_for_: it must be
// voided, or -Wextra -Werror rejects the header (unused parameter 'A').
TEST_CASE("header: multi-architecture select_variant_for_ voids arguments only a last variant assumes") {
  auto oneVariant = [] {
    ir::Module m;
    ir::Kernel k;
    k.name = "k";
    k.sourceName = "k";
    k.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle, ir::DType::Float32),
                param("M", ir::ParamKind::Dim, ir::DType::Int32)};
    k.grid[0] = ceilDiv(k.params[1].var, 16);
    k.threads = 256;
    k.assumptions = {{k.params[0].var, 16}};
    m.kernels.push_back(k);
    return m;
  };
  const ir::Module ampere = oneVariant(), hopper = oneVariant();
  std::vector<uint8_t> fakeCubin = {0x7f, 'E', 'L', 'F', 0};
  HeaderOptions options;
  options.prefix = "sample";
  std::string header = generateMultiArchHeader({{"sm_80", &ampere, fakeCubin}, {"sm_90a", &hopper, fakeCubin}}, options);
  size_t select = header.find("k_select_variant_for_(int tlc_arch");
  REQUIRE(select != std::string::npos);
  std::string body = header.substr(select, header.find("\n}\n", select) - select);
  CHECK(contains(body, "(void)A;"));
  CHECK(contains(body, "(void)M;"));
  CHECK(!contains(body, "A % 16u"));
}

// Index width (WidenIndices, issue 17): a uint32 extent past 2^31 is a size like any
// other (the kernel indexes it in int64); a uint64 extent past 2^63 - 1, a grid past
// the device's limits and a tensor whose last offset overflows int64 are refused,
// each naming what it refuses, and nothing is launched.
TEST_CASE("header: extents past int32 are launched or refused by name, never wrapped") {
  REQUIRE_CUDA_HEADER();
  ir::Module m;
  {
    ir::Kernel k;
    k.name = k.sourceName = "wide32";
    k.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle), param("n", ir::ParamKind::Scalar, ir::DType::UInt32)};
    k.grid[0] = ceilDiv(k.params[1].var, 256);
    k.threads = 256;
    m.kernels.push_back(k);
  }
  {
    ir::Kernel k;
    k.name = k.sourceName = "wide64";
    k.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle), param("n", ir::ParamKind::Scalar, ir::DType::UInt64)};
    k.grid[0] = ceilDiv(k.params[1].var, 256);
    k.argumentBounds = {{k.params[1].var, uint64_t(INT64_MAX)}};
    k.threads = 256;
    m.kernels.push_back(k);
  }
  {
    ir::Kernel k;
    k.name = k.sourceName = "big";
    k.params = {param("A", ir::ParamKind::Pointer, ir::DType::Handle), param("J", ir::ParamKind::Dim, ir::DType::Int32),
                param("K", ir::ParamKind::Dim, ir::DType::Int32), param("M", ir::ParamKind::Dim, ir::DType::Int32),
                param("N", ir::ParamKind::Dim, ir::DType::Int32)};
    auto wide = [&](int i) { return ir::cast(ir::DType::Int64, k.params[i].var); };
    k.tensorSpans = {{"A", ir::mul(ir::mul(ir::mul(wide(1), wide(2)), wide(3)), wide(4))}};
    k.grid[0] = ceilDiv(k.params[4].var, 128);
    k.threads = 128;
    m.kernels.push_back(k);
  }
  HeaderOptions options;
  options.prefix = "sample";
  std::string h = generateHeader(m, {0x7f, 'E', 'L', 'F'}, options);
  CHECK(contains(h, "  if ((unsigned long long)n > 9223372036854775807ull)\n"));
  CHECK(!contains(h, "(unsigned long long)n > 4294967295"));
  fs::path dir = scratchDir();
  writeFile(dir / "wide.h", h);
  const std::string tests = R"C(
int main(void) {
  CUdeviceptr a = 0x10000;
  int launches;
  /* uint32 3e9: 11718750 blocks of 256, launched. */
  EXPECT(wide32_launch(a, 3000000000u, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 11718750u);
  EXPECT(wide32_launch(a, 4294967295u, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 16777216u);
  /* uint64: up to 2^63 - 1 is indexable; past it, refused by name; nothing launched. */
  EXPECT(wide64_launch(a, 3000000000ull, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 11718750u);
  launches = mock_launches;
  EXPECT_REFUSED(wide64_launch(a, 18446744073709551615ull, NULL),
                 "argument 'n' = 18446744073709551615 exceeds 9223372036854775807 (2^63 - 1)");
  EXPECT_REFUSED(wide64_launch(a, 9223372036854775808ull, NULL), "argument 'n' = 9223372036854775808 exceeds");
  /* 2^63 - 1: ceildiv's n + 255 overflows: refused too. */
  EXPECT_REFUSED(wide64_launch(a, 9223372036854775807ull, NULL), "the grid (ceildiv(n, 256), 1, 1) overflows 64-bit");
  /* The first grid past the limit: 2^31 blocks. */
  EXPECT_REFUSED(wide64_launch(a, 549755813888ull, NULL), "grid x = ceildiv(n, 256) = 2147483648 exceeds the device limit");
  EXPECT(mock_launches == launches);
  /* The last grid within it. */
  EXPECT(wide64_launch(a, 549755813632ull, NULL) == CUDA_SUCCESS);
  EXPECT(mock_grid[0] == 2147483647u);
  /* A 4-D tensor of 2^64 elements: its offsets overflow int64, refused by name. */
  launches = mock_launches;
  EXPECT_REFUSED(big_launch(a, 65536, 65536, 65536, 65536, NULL), "tensor 'A' is too large");
  EXPECT(mock_launches == launches);
  EXPECT(big_launch(a, 2, 65536, 65536, 65536, NULL) == CUDA_SUCCESS);
  EXPECT(mock_launches == launches + 1);
  if (failures == 0) printf("mock driver: all checks passed\n");
  return failures != 0;
}
)C";
  buildAndRunMockProgram(dir, "mock_wide", std::string("#include <stdio.h>\n#include <string.h>\n#include \"wide.h\"\n") +
                                               kMockDriver + tests);
}
