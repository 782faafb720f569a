// eviction_simt: copies with eviction_policy= that take SIMT loops
// (tests/gpu/kernels/eviction_simt.tl), their global accesses carrying the L2 policy
// (ld/st.global.L2::cache_hint; the PTX is pinned by tests/golden/lower/eviction_simt_ptx.tl).
// The hint must not change a bit: B = A and G = A through shared tiles (16- and 8-byte
// loads, 16- and 4-byte stores), D = C global to global (4 bytes), F = E (uint8, 16
// bytes), K = E (a run-time extent, element by element), H[0] = A[M-1, N-1] (one element), bit-exact on ragged shapes with random data
// and poisoned outputs. N % 16 == 0 with aligned buffers runs the vectorized variant;
// other N, or A 2 bytes off its alignment, the general one (2- and 1-byte accesses).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "eviction_simt.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N, size_t offsetA, bool wantGeneral) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint16_t> a(count);
  std::vector<uint32_t> c(count);
  std::vector<uint8_t> e(N);
  fillRandomBits(a, 101u * M + N);
  fillRandomBits(c, 103u * M + N);
  fillRandomBits(e, 107u * N);
  DeviceBuffer dA(count * 2, offsetA), dB(count * 2), dC(count * 4), dD(count * 4), dG(count * 2), dE(N), dF(N), dH(2), dK(N);
  dA.upload(a.data());
  dC.upload(c.data());
  dE.upload(e.data());
  for (DeviceBuffer* out : {&dB, &dD, &dG, &dF, &dH, &dK}) out->poison();
  const char* entry = evict_copy_variant_entry(evict_copy_select_variant(dA.ptr(), dB.ptr(), dC.ptr(), dD.ptr(), dG.ptr(),
                                                                         dE.ptr(), dF.ptr(), dH.ptr(), dK.ptr(), M, N));
  if (isGeneralEntry(entry, "evict_copy") != wantGeneral) check.fail(wantGeneral ? "want the general variant" : "want the vectorized variant");
  if (launchAndWait(evict_copy_launch(dA.ptr(), dB.ptr(), dC.ptr(), dD.ptr(), dG.ptr(), dE.ptr(), dF.ptr(), dH.ptr(), dK.ptr(), M, N,
                                      g.stream),
                    check)) {
    checkBitExact(check, dB, a, "B", dA, "A");
    checkBitExact(check, dG, a, "G", dA, "A");
    checkBitExact(check, dD, c, "D", dC, "C");
    checkBitExact(check, dF, e, "F", dE, "E");
    checkBitExact(check, dK, e, "K", dE, "E");
    checkBitExact(check, dH, std::vector<uint16_t>{a[count - 1]}, "H", dA, "A");
  }
  std::string shape = shapeString({M, N}, "fp16/fp32/u8") + (offsetA ? " A+" + std::to_string(offsetA) + "B" : "");
  report(untimedResult("eviction_simt", shape, check.passed(), entry ? entry : "?"));
}

}  // namespace

int main() {
  printVariants("eviction_simt", evict_copy_variant_entry);
  testShape(64, 128, 0, false);
  testShape(1000, 1024, 0, false);
  testShape(37, 131, 0, true);   // ragged, odd N: the general variant
  testShape(1, 1, 0, true);
  testShape(33, 80, 0, false);   // M ragged, N a multiple of 16
  testShape(64, 128, 2, true);   // A misaligned: the general variant
  return finish();
}
