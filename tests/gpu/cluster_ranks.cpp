// cluster_ranks: tests/gpu/kernels/cluster_ranks.tl. block_rank_in_cluster() of
// every block of a grid in 2x2x2 clusters and in 16-block clusters (non-portable:
// the launcher sets CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED), compared
// with x + CX * (y + CY * z) inside the cluster after poisoning R; grids that are not
// whole clusters are refused with a message naming the axis and the argument.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cluster_ranks.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testRanks8(int GX, int GY, int GZ) {
  Gpu& g = gpu();
  Checker check;
  const size_t count = size_t(GX) * GY * GZ;
  std::vector<int32_t> r(count);
  DeviceBuffer dr(count * 4);
  dr.poison();
  if (launchAndWait(ranks8_launch(dr.ptr(), GZ, GY, GX, g.stream), check)) {
    dr.download(r.data());
    for (int z = 0; z < GZ; ++z)
      for (int y = 0; y < GY; ++y)
        for (int x = 0; x < GX; ++x) {
          size_t i = (size_t(z) * GY + y) * GX + x;
          check.addBits(i, uint32_t(r[i]), uint32_t(x % 2 + 2 * (y % 2) + 4 * (z % 2)));
        }
    if (!dr.guardsIntact()) check.fail("wrote outside R");
  }
  Result res;
  res.name = "cluster_ranks";
  res.shape = "grid " + std::to_string(GX) + "x" + std::to_string(GY) + "x" + std::to_string(GZ) + ", cluster 2x2x2";
  res.variant = "ranks8";
  res.pass = check.passed();
  res.maxErr = check.maxError();
  report(res);
}

void testRanks16(int G) {
  Gpu& g = gpu();
  Checker check;
  std::vector<int32_t> r(G);
  DeviceBuffer dr(size_t(G) * 4);
  dr.poison();
  CUresult launched = ranks16_launch(dr.ptr(), G, g.stream);
  if (launched != CUDA_SUCCESS) std::printf("#   ranks16: %s\n", cluster_ranks_last_error());
  if (launchAndWait(launched, check)) {
    dr.download(r.data());
    for (int x = 0; x < G; ++x) check.addBits(size_t(x), uint32_t(r[x]), uint32_t(x % 16));
    if (!dr.guardsIntact()) check.fail("wrote outside R");
  }
  Result res;
  res.name = "cluster_ranks";
  res.shape = "grid " + std::to_string(G) + ", cluster 16 (non-portable)";
  res.variant = "ranks16";
  res.pass = check.passed();
  res.maxErr = check.maxError();
  report(res);
}

void testRefused(int GX, int GY, int GZ, const char* argument) {
  Gpu& g = gpu();
  Checker check;
  DeviceBuffer dr(size_t(GX) * GY * GZ * 4);
  dr.poison();
  CUresult got = ranks8_launch(dr.ptr(), GZ, GY, GX, g.stream);
  const char* message = cluster_ranks_last_error();
  std::printf("#   %dx%dx%d: %s, '%s'\n", GX, GY, GZ, errorName(got), message);
  if (got != CUDA_ERROR_INVALID_VALUE) check.fail("not refused");
  if (!std::strstr(message, "ranks8_launch") || !std::strstr(message, argument) || !std::strstr(message, "cluster_dims"))
    check.fail("the message does not name the launcher, the argument and cluster_dims");
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::vector<uint8_t> out(dr.bytes());
  dr.download(out.data());
  if (!std::all_of(out.begin(), out.end(), [](uint8_t x) { return x == DeviceBuffer::kPoisonByte; }))
    check.fail("a refused launch wrote to R");
  Result res;
  res.name = "cluster_ranks";
  res.shape = "grid " + std::to_string(GX) + "x" + std::to_string(GY) + "x" + std::to_string(GZ) + ": refused";
  res.variant = "-";
  res.pass = check.passed();
  report(res);
}

}  // namespace

int main() {
  std::printf("# cluster_ranks on %s\n", gpu().name.c_str());
  testRanks8(2, 2, 2);
  testRanks8(8, 6, 4);
  testRanks8(64, 2, 10);
  testRanks16(16);
  testRanks16(1024);
  testRefused(3, 2, 2, "GX");
  testRefused(4, 5, 2, "GY");
  testRefused(4, 2, 7, "GZ");
  return finish();
}
