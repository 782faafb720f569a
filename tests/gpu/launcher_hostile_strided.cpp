// launcher_hostile_strided: a StridedTensor's stride and pointer against its TMA
// load (tests/gpu/kernels/strided_copy_tma.tl: Y = X, X an M x N view with rows ldx
// elements apart, fp16). TMA needs X 16-byte aligned and ldx * 2 bytes a multiple of
// 16: any other stride or address runs the general variant, bit-exact, with no
// message (last_error is for failures). A negative stride or dimension and a null
// pointer are refused with a message naming the argument, nothing written.
// A stride of 0 (every row reads row 0) is legal: the driver refuses a tensor map
// with it, and the launcher falls back instead of failing.
#include "harness.h"

#include <climits>
#include <initializer_list>
#include <string>

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "strided_copy_tma.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "launcher_hostile_strided"
#endif

#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using Elem = uint16_t;

std::string lastError() { return strided_copy_tma_last_error(); }

// Runs Y = X[M x N, rows ldx apart] and compares every element of Y.
void testRuns(int32_t M, int32_t N, int32_t ldx, size_t offsetX, int wantVariant) {
  Gpu& g = gpu();
  Checker check;
  size_t inCount = size_t(M > 0 ? M - 1 : 0) * ldx + N, outCount = size_t(M) * N;
  std::vector<Elem> x(inCount), y(outCount);
  fillRandomBits(x, 0x51 + M * 7 + N * 3 + ldx);
  DeviceBuffer xs(inCount * sizeof(Elem), offsetX), ys(outCount * sizeof(Elem));
  xs.upload(x.data());
  ys.poison();
  strided_copy_launch(0, 0, 1, 1, 1, g.stream);  // a known message to compare with
  std::string before = lastError();
  int variant = strided_copy_select_variant(xs.ptr(), ys.ptr(), M, N, ldx);
  expectVariant(check, variant, wantVariant);
  if (launchAndWait(strided_copy_launch(xs.ptr(), ys.ptr(), M, N, ldx, g.stream), check)) {
    ys.download(y.data());
    for (int32_t m = 0; m < M; ++m)
      for (int32_t n = 0; n < N; ++n)
        check.addBits(size_t(m) * N + n, y[size_t(m) * N + n], x[size_t(m) * ldx + n]);
    if (!ys.guardsIntact()) check.fail("wrote outside Y");
    if (!xs.guardsIntact()) check.fail("wrote outside X");
  }
  if (lastError() != before) check.fail("a launch that ran changed last_error");
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + " ldx=" + std::to_string(ldx) + " (" +
                      std::to_string(ldx * 2) + " B)" + (offsetX ? ", X " + std::to_string(offsetX) + " B off 16" : "");
  Result r = untimedResult(TLC_TEST_NAME, shape, check.passed(), strided_copy_variant_entry(variant));
  r.maxErr = check.maxError();
  report(r);
}

void testRefused(const char* what, int32_t M, int32_t N, int32_t ldx, bool nullX, std::initializer_list<std::string> want) {
  Gpu& g = gpu();
  DeviceBuffer xs(size_t(256) * 512 * sizeof(Elem)), ys(size_t(256) * 256 * sizeof(Elem));
  ys.poison();
  CUresult got = strided_copy_launch(nullX ? 0 : xs.ptr(), ys.ptr(), M, N, ldx, g.stream);
  bool pass = isRefusal(what, got, lastError(), "strided_copy_launch", want);
  bool untouched = ys.untouchedSincePoison();
  if (!untouched) std::fprintf(stderr, "    %s: a refused launch wrote to Y\n", what);
  report(untimedResult(TLC_TEST_NAME, std::string("refused: ") + what, pass && untouched));
}

}  // namespace

int main() {
  std::printf("# %s on %s\n", TLC_TEST_NAME, gpu().name.c_str());
  testRuns(200, 1000, 1024, 0, 0);   // stride 2048 B: TMA
  testRuns(200, 1000, 1003, 0, 1);   // stride 2006 B: not a multiple of 16
  testRuns(200, 1000, 1004, 0, 1);   // stride 2008 B: a multiple of 8, not 16
  testRuns(200, 1000, 1024, 2, 1);   // X 2 bytes off 16
  testRuns(130, 72, 72, 0, 0);       // stride = N, compact
  testRuns(70, 136, 0, 0, 0);        // stride 0: the tensor map is refused, the general variant runs
  testRefused("ldx = -8", 64, 64, -8, false, {"dimension 'ldx' = -8 must not be negative"});
  testRefused("X = NULL", 64, 64, 512, true, {"argument 'X' is a null pointer"});
  testRefused("N = -1", 64, -1, 512, false, {"dimension 'N' = -1 must not be negative"});
  return finish();
}
