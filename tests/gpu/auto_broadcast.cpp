// auto_broadcast: Buffer(..., buffer_type="auto_broadcast") on the GPU
// (tests/gpu/kernels/auto_broadcast.tl): B is (R, C) with each of R, C either 1 (the
// axis broadcasts: every index reads element 0) or the full extent; Y = X + B,
// through a copy of B into a shared tile and through element reads. Ragged shapes
// (1, primes, not multiples of the 32 x 64 tile), 8 bytes off alignment too; Y is
// poisoned first and compared bit for bit with the CPU (one float32 add), the
// guards of every buffer intact.
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "auto_broadcast.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using Launch = CUresult (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, int32_t, int32_t, CUstream);
using Select = int (*)(CUdeviceptr, CUdeviceptr, CUdeviceptr, int32_t, int32_t, int32_t, int32_t);
using Entry = const char* (*)(int);

struct Kernel {
  const char* name;
  Launch launch;
  Select select;
  Entry entry;
};

void fill(std::vector<float>& v, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (float& f : v) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    f = float(int32_t(x % 2001) - 1000) / 256.0f;
  }
}

void test(const Kernel& k, int M, int N, bool rows, bool cols, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  const int R = rows ? M : 1, C = cols ? N : 1;
  std::vector<float> x(size_t(M) * N), b(size_t(R) * C), y(size_t(M) * N);
  fill(x, uint32_t(M * 7 + N));
  fill(b, uint32_t(R * 13 + C + 5));
  DeviceBuffer dx(x.size() * 4, offset), db(b.size() * 4, offset), dy(y.size() * 4, offset);
  dx.upload(x.data());
  db.upload(b.data());
  dy.poison();
  std::string shape = std::to_string(M) + "x" + std::to_string(N) + " B " + std::to_string(R) + "x" +
                      std::to_string(C) + (offset ? " +" + std::to_string(offset) + "B" : "");
  const char* entry = k.entry(k.select(dx.ptr(), db.ptr(), dy.ptr(), M, N, R, C));
  if (launchAndWait(k.launch(dx.ptr(), db.ptr(), dy.ptr(), M, N, R, C, g.stream), check)) {
    dy.download(y.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        size_t at = size_t(i) * N + j;
        float want = x[at] + b[size_t(R == 1 ? 0 : i) * C + (C == 1 ? 0 : j)];
        uint32_t got32, want32;
        std::memcpy(&got32, &y[at], 4);
        std::memcpy(&want32, &want, 4);
        check.addBits(at, got32, want32);
      }
    if (!dy.guardsIntact()) check.fail("wrote outside Y");
    if (!dx.guardsIntact() || !db.guardsIntact()) check.fail("wrote outside an input");
  }
  report(untimedResult(k.name, shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  std::printf("# auto_broadcast (buffer_type=\"auto_broadcast\", ragged shapes) on %s\n", gpu().name.c_str());
  const Kernel kernels[] = {
      {"via_copy", via_copy_launch, via_copy_select_variant, via_copy_variant_entry},
      {"via_elements", via_elements_launch, via_elements_select_variant, via_elements_variant_entry},
  };
  const int shapes[][2] = {{1, 1}, {37, 1}, {1, 130}, {100, 67}, {33, 130}, {64, 128}};
  for (const Kernel& k : kernels)
    for (auto& s : shapes)
      for (int mode = 0; mode < 4; ++mode) {
        test(k, s[0], s[1], mode & 1, mode & 2, 0);
        if (mode == 0) test(k, s[0], s[1], false, false, 8);
      }
  return finish();
}
