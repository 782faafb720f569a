// print: the device print(...) built-in (tests/gpu/kernels/print.tl) through vprintf.
// The kernel's stdout output is captured (fd 1 redirected to a file around the
// synchronization that flushes the device's printf buffer) and compared, line by
// line (sorted: blocks print in any order), with the lines the CPU expects: the
// format of Codegen's emitPrint and the interpreter ("[block (b, 0, 0) thread t] msg
// label = value, ...", floats as %g of the double they widen to).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "print.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Runs `body` with fd 1 going to a temporary file; returns what was written there.
std::string captureStdout(const std::function<void()>& body) {
  std::fflush(stdout);
  char path[] = "/tmp/tlc_print_XXXXXX";
  int file = mkstemp(path);
  int saved = dup(1);
  dup2(file, 1);
  body();
  std::fflush(stdout);
  dup2(saved, 1);
  close(saved);
  close(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(path);
  return text.str();
}

std::vector<std::string> sortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

void testPrint(int N) {
  gpu();
  Checker check;
  std::vector<uint16_t> a(static_cast<size_t>(N));
  std::vector<double> values(static_cast<size_t>(N));
  for (int i = 0; i < N; ++i) {
    values[size_t(i)] = 0.5 * (i % 64) - 3.0;  // exact in float16
    float f = float(values[size_t(i)]);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    // float -> half for these small multiples of 0.5 (exact: no rounding needed)
    uint32_t sign = (bits >> 16) & 0x8000;
    int exponent = int((bits >> 23) & 0xff) - 127 + 15;
    a[size_t(i)] = f == 0.0f ? uint16_t(sign) : uint16_t(sign | (uint32_t(exponent) << 10) | ((bits & 0x7fffff) >> 13));
  }
  DeviceBuffer A(a.size() * 2);
  A.upload(a.data());
  const float s = 1.25f;
  CUresult launched = CUDA_SUCCESS;
  std::string printed = captureStdout([&] {
    launched = show_launch(A.ptr(), N, s, nullptr);
    if (launched == CUDA_SUCCESS) launched = cuCtxSynchronize();
  });
  if (launched != CUDA_SUCCESS) {
    std::fprintf(stderr, "    launch failed: %s (%s)\n", errorName(launched), print_last_error());
    check.fail("launch");
  }
  std::vector<std::string> want;
  for (int b = 0; b * 64 < N; ++b)
    for (int t = 0; t < 2 && b * 64 + t < N; ++t) {
      char line[256];
      std::snprintf(line, sizeof line,
                    "[block (%d, 0, 0) thread %d] 100%% row A[bx * 64 + i] = %g, bx * 64 + i = %d, s * 2.0 = %g, "
                    "i == 0 = %d, cast(bx, int64) * 3000000000 = %lld",
                    b, t, values[size_t(b * 64 + t)], b * 64 + t, double(s * 2.0f), t == 0 ? 1 : 0,
                    (long long)b * 3000000000LL);
      want.push_back(line);
    }
  std::sort(want.begin(), want.end());
  std::vector<std::string> got = sortedLines(printed);
  if (got != want) {
    std::fprintf(stderr, "    printed %zu lines, expected %zu\n", got.size(), want.size());
    for (size_t i = 0; i < std::max(got.size(), want.size()) && i < 6; ++i)
      std::fprintf(stderr, "    got  %s\n    want %s\n", i < got.size() ? got[i].c_str() : "(none)",
                   i < want.size() ? want[i].c_str() : "(none)");
    check.fail("printed lines");
  }
  report(untimedResult("print", "N=" + std::to_string(N), check.passed(), std::to_string(got.size()) + " lines"));
}

}  // namespace

int main() {
  for (int N : {1, 2, 64, 131, 1000}) testPrint(N);
  return finish();
}
