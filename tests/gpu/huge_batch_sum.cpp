// huge_batch_sum: the spec's batch_sum (C[m, n] = A[0, m, n] + A[1, m, n]) at K = 2,
// M = N = 46341: each plane holds 46341^2 = 2147488281 > 2^31 elements, so the batch
// offset k * (N * M) passes int32 (issue 17: it was `mul i32 %N, %M`, and batch 1 was
// read about 4 GiB before A). N is odd: the general (SIMT) variant.
//
// A's elements are small integers (0 .. 2038, exact in float16, their sums exact in
// float32) that depend on the flat index's high bits too, so a read from the wrong
// place gives the wrong sum. C is poisoned and every element compared bit-exactly, in
// chunks on the host; the guard zones must be intact. Not timed. A device with too
// little free memory gets a SKIP row.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "batch_sum.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

constexpr size_t kChunk = size_t(1) << 26;  // elements per host transfer

uint32_t value(uint64_t i) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  return (uint32_t(x >> 32) ^ uint32_t(i >> 31)) % 2039;
}

// The float16 bits of an integer 0 .. 2047 (exact).
uint16_t halfOfInt(uint32_t v) {
  if (v == 0) return 0;
  int e = 31 - __builtin_clz(v);
  return uint16_t(((e + 15) << 10) | ((v << (10 - e)) & 0x3ff));
}

void testShape(int K, int M, int N) {
  const std::string shape = shapeString({K, M, N}, "fp16->fp32");
  const size_t plane = size_t(M) * size_t(N), inBytes = plane * K * 2, outBytes = plane * 4;
  if (!haveDeviceMemory("huge_batch_sum", shape, inBytes + outBytes)) return;
  Checker check;
  std::string entry;
  {
    DeviceBuffer a(inBytes), c(outBytes);
    {
      std::vector<uint16_t> halves(2039), host(kChunk);
      for (uint32_t v = 0; v < 2039; ++v) halves[v] = halfOfInt(v);
      const size_t count = plane * K;
      for (size_t start = 0; start < count; start += kChunk) {
        size_t n = std::min(kChunk, count - start);
        for (size_t j = 0; j < n; ++j) host[j] = halves[value(start + j)];
        CU_CHECK(cuMemcpyHtoD(a.ptr() + start * 2, host.data(), n * 2));
      }
    }
    c.poison();
    entry = batch_sum_variant_entry(batch_sum_select_variant(a.ptr(), c.ptr(), K, M, N));
    expectVariant(entry.c_str(), "batch_sum", shape, check);
    if (launchAndWait(batch_sum_launch(a.ptr(), c.ptr(), K, M, N, gpu().stream), check)) {
      std::vector<float> host(kChunk);
      for (size_t start = 0; start < plane; start += kChunk) {
        size_t n = std::min(kChunk, plane - start);
        CU_CHECK(cuMemcpyDtoH(host.data(), c.ptr() + start * 4, n * 4));
        for (size_t j = 0; j < n; ++j) {
          float want = 0;
          for (int k = 0; k < K; ++k) want += float(value(size_t(k) * plane + start + j));
          if (host[j] != want) check.add(start + j, host[j], want);
        }
      }
      if (!c.guardsIntact()) check.fail("wrote outside C");
      if (!a.guardsIntact()) check.fail("wrote outside A");
    }
  }
  reportChecked(untimedResult("huge_batch_sum", shape, false, entry), check, false, nullptr);
}

}  // namespace

int main() {
  std::printf("# huge_batch_sum on %s\n", gpu().name.c_str());
  testShape(2, 46341, 46341);
  return finish();
}
