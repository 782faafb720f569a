// whole_head: copy(A, s) / copy(s, B) where A and B have symbolic shape (M, N) and s
// is a (32, 64) tile (tests/gpu/kernels/whole_head.tl): the seed's head-address rule
// copies the head tile, bit-exact, leaving the rest of B poisoned; M < 32 or N < 64
// is refused by the launcher (CUDA_ERROR_INVALID_VALUE naming the dimension, B
// untouched). Ragged N (131: the general variant) and misaligned A too.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "whole_head.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N, size_t offsetA, bool wantGeneral) {
  Gpu& g = gpu();
  const size_t n = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint16_t> a(n), want(n, 0xFFFF);  // DeviceBuffer::poison's payload
  fillRandomBits(a, 307u * M + N);
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 64; ++j) want[size_t(i) * N + j] = a[size_t(i) * N + j];
  DeviceBuffer dA(n * 2, offsetA), dB(n * 2);
  dA.upload(a.data());
  dB.poison();
  const char* entry = head_variant_entry(head_select_variant(dA.ptr(), dB.ptr(), M, N));
  if (isGeneralEntry(entry, "head") != wantGeneral) check.fail(wantGeneral ? "want the general variant" : "want the fast variant");
  if (launchAndWait(head_launch(dA.ptr(), dB.ptr(), M, N, g.stream), check)) checkBitExact(check, dB, want, "B", dA, "A");
  std::string shape = shapeString({M, N}, "fp16") + (offsetA ? " A+" + std::to_string(offsetA) + "B" : "");
  report(untimedResult("whole_head", shape, check.passed(), entry ? entry : "?"));
}

void testRefused(int M, int N, const char* dimension) {
  Gpu& g = gpu();
  const size_t n = size_t(M) * size_t(N);
  Checker check;
  DeviceBuffer dA(n * 2), dB(n * 2);
  dB.poison();
  CUresult status = head_launch(dA.ptr(), dB.ptr(), M, N, g.stream);
  if (!isRefusal("too small", status, whole_head_last_error(), "head_launch", {dimension, "is less than"}))
    check.fail("not refused as expected");
  if (!dB.untouchedSincePoison()) check.fail("wrote B although refused");
  report(untimedResult("whole_head_refused", shapeString({M, N}, "fp16"), check.passed(), "launcher error"));
}

}  // namespace

int main() {
  printVariants("whole_head", head_variant_entry);
  testShape(32, 64, 0, false);
  testShape(1000, 1000, 0, false);
  testShape(37, 131, 0, true);
  testShape(64, 64, 2, true);
  testRefused(31, 64, "dimension 0 of tensor 'A' (M) = 31");
  testRefused(32, 63, "dimension 1 of tensor 'A' (N) = 63");
  testRefused(1, 1, "dimension 0 of tensor 'A' (M) = 1");
  return finish();
}
