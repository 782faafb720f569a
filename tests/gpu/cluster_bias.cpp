// cluster_bias: C[b] = A[b] + W for every batch b, float16, the spec's
// cluster_bias.tl (2-block clusters along z, W's tile multicast to both blocks by
// TMA) and tests/gpu/kernels/cluster_bias_mask4.tl (4-block clusters, a partial mask
// 0b0110 issued by block 1, blocks 0 and 3 load W themselves): TLC_CLUSTER says
// which (the blocks per cluster along z).
//
// Every element is compared bit for bit with a CPU reference after poisoning C, on
// ragged shapes (M, N not multiples of the 64x128 tile), aligned (the TMA multicast
// variant) and with N odd or W 2 bytes off 16-byte alignment (the general variant,
// where each block loads its own tile). NB not a multiple of the cluster: the
// launch returns CUDA_ERROR_INVALID_VALUE, <prefix>_last_error() names the grid's z
// extent NB and cluster_dims, and C keeps its poison (nothing was launched).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cluster_bias.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "cluster_bias"
#endif
#ifndef TLC_CLUSTER
#define TLC_CLUSTER 2
#endif
#ifndef TLC_LAST_ERROR
#define TLC_LAST_ERROR cluster_bias_last_error
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// Round to nearest even; inputs here are normal halves' sums (no overflow, no subnormals).
uint16_t floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  int exponent = int((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if ((x & 0x7fffffff) == 0) return uint16_t(sign);
  if (exponent <= 0 || exponent >= 31) return uint16_t(sign | 0x7c00);  // not produced by this test
  uint32_t half = (uint32_t(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return uint16_t(sign | half);
}

// Magnitudes in [0.5, 2): the sum of two is exact in float32, so rounding it once
// to float16 is what the kernel's float16 addition gives.
void fillHalf(std::vector<uint16_t>& v, uint64_t seed) {
  Random r(seed);
  for (uint16_t& h : v) {
    uint64_t x = r.next();
    h = uint16_t(((x & 1) << 15) | ((14 + (x >> 1) % 2) << 10) | ((x >> 8) & 0x3ff));
  }
}

int variantCount() {
  int n = 0;
  while (add_bias_variant_entry(n) != nullptr) ++n;
  return n;
}

void testShape(int NB, int M, int N, size_t offsetW) {
  Gpu& g = gpu();
  Checker check;
  const size_t plane = size_t(M) * N, count = plane * NB;
  std::vector<uint16_t> a(count), w(plane), c(count);
  fillHalf(a, 31u * NB + 7u * M + N);
  fillHalf(w, 17u * M + N + offsetW);
  DeviceBuffer da(count * 2), dw(plane * 2, offsetW), dc(count * 2);
  da.upload(a.data());
  dw.upload(w.data());
  dc.poison();
  const int variant = add_bias_select_variant(da.ptr(), dw.ptr(), dc.ptr(), NB, M, N);
  const char* entry = add_bias_variant_entry(variant);
  bool general = N % 8 != 0 || offsetW % 16 != 0;
  if (general && variant != variantCount() - 1) check.fail("the TMA variant was picked for an odd N or a misaligned W");
  if (!general && variant != 0) check.fail("the TMA multicast variant was not picked for aligned inputs");
  if (launchAndWait(add_bias_launch(da.ptr(), dw.ptr(), dc.ptr(), NB, M, N, g.stream), check)) {
    dc.download(c.data());
    for (size_t i = 0; i < count; ++i)
      check.addBits(i, c[i], floatToHalf(halfToFloat(a[i]) + halfToFloat(w[i % plane])));
    if (!dc.guardsIntact()) check.fail("wrote outside C");
  }
  Result r;
  r.name = TLC_TEST_NAME;
  r.shape = shapeString({NB, M, N}, "fp16") + (offsetW ? ", W +" + std::to_string(offsetW) + " bytes" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(count * 4 + plane * 2);
  if (check.passed())
    r.ms = medianMs([&](int) { return add_bias_launch(da.ptr(), dw.ptr(), dc.ptr(), NB, M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

// NB not a multiple of the cluster's z extent: refused before anything runs.
void testNotWholeClusters(int NB) {
  Gpu& g = gpu();
  Checker check;
  const int M = 100, N = 200;
  const size_t plane = size_t(M) * N, count = plane * NB;
  std::vector<uint16_t> a(count, 0x3c00), w(plane, 0x3c00);
  DeviceBuffer da(count * 2), dw(plane * 2), dc(count * 2);
  da.upload(a.data());
  dw.upload(w.data());
  dc.poison();
  CUresult got = add_bias_launch(da.ptr(), dw.ptr(), dc.ptr(), NB, M, N, g.stream);
  const char* message = TLC_LAST_ERROR();
  std::printf("#   NB = %d: %s, '%s'\n", NB, errorName(got), message ? message : "(null)");
  if (got != CUDA_ERROR_INVALID_VALUE) check.fail("the launch was not refused with CUDA_ERROR_INVALID_VALUE");
  if (!message || !std::strstr(message, "add_bias_launch") || !std::strstr(message, "NB") ||
      !std::strstr(message, "cluster_dims"))
    check.fail("the message does not name the launcher, NB and cluster_dims");
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::vector<uint8_t> out(dc.bytes());
  dc.download(out.data());
  if (!std::all_of(out.begin(), out.end(), [](uint8_t x) { return x == DeviceBuffer::kPoisonByte; }) ||
      !dc.guardsIntact())
    check.fail("a refused launch wrote to C");
  Result r;
  r.name = TLC_TEST_NAME;
  r.shape = "NB=" + std::to_string(NB) + " not whole clusters of " + std::to_string(TLC_CLUSTER) + ": refused";
  r.variant = "-";
  r.pass = check.passed();
  report(r);
}

}  // namespace

int main() {
  const int k = TLC_CLUSTER;
  std::printf("# %s on %s, clusters of %d blocks along z (%d variants:", TLC_TEST_NAME, gpu().name.c_str(), k,
              variantCount());
  for (int v = 0; v < variantCount(); ++v)
    std::printf(" %s, cluster %ux%ux%u;", add_bias_variant_entry(v), add_bias_info(v)->cluster[0],
                add_bias_info(v)->cluster[1], add_bias_info(v)->cluster[2]);
  std::printf(")\n");
  for (int v = 0; v < variantCount(); ++v)
    if (add_bias_info(v)->cluster[2] != unsigned(k)) {
      std::printf("RESULT|%s|info|FAIL|-|-|-|-|%s_info() does not report the cluster\n", TLC_TEST_NAME, add_bias_variant_entry(v));
      ++failureCount();
    }
  testShape(k, 64, 128, 0);           // one tile per batch
  testShape(2 * k, 100, 200, 0);      // ragged in M and N
  testShape(k, 1000, 1000, 0);        // many tiles, ragged
  testShape(3 * k, 77, 264, 0);       // ragged, N % 8 == 0
  testShape(k, 130, 301, 0);          // N odd: general variant
  testShape(2 * k, 129, 256, 2);      // W 2 bytes off 16: general variant
  testShape(2 * k, 4096, 4096, 0);    // large
  testNotWholeClusters(k + 1);
  testNotWholeClusters(1);
  return finish();
}
