// cpasync_facts: cutedsl's cpasync facts on the GPU (tests/gpu/kernels/cpasync_facts.tl):
// B = A through tma_load on extract_tensormap_ptr(D), C = A through
// cp_async_shared_global with the integer cache modifiers 1 (CG) and 0 (CA), and F =
// {BYTES_PER_TENSORMAP, BYTES_PER_POINTER, the map's address % 64, the two extracted
// pointers equal} = {128, 8, 0, 1}. fp32, M x 64 with M ragged (1, 17, primes), random
// A, outputs poisoned, bit-exact. The kernel uses TMA only (one variant): A 4 bytes
// off 16-byte alignment is refused by the launcher with a message naming A.
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cpasync_facts.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * 64;
  Checker check;
  std::vector<uint32_t> a(count);
  fillRandomBits(a, 15485863u * M + 1);
  DeviceBuffer da(count * 4), db(count * 4), dc(count * 4), df(4 * 8);
  da.upload(a.data());
  db.poison();
  dc.poison();
  df.poison();
  const char* entry = tensormap_ptr_copy_variant_entry(tensormap_ptr_copy_select_variant(da.ptr(), db.ptr(), dc.ptr(), df.ptr(), M));
  if (launchAndWait(tensormap_ptr_copy_launch(da.ptr(), db.ptr(), dc.ptr(), df.ptr(), M, g.stream), check)) {
    checkBitExact(check, db, a, "B", da, "A");
    checkBitExact(check, dc, a, "C", da, "A");
    checkBitExact(check, df, std::vector<uint64_t>{128, 8, 0, 1}, "F", da, "A");
  }
  report(untimedResult("cpasync_facts", shapeString({M, 64}, "fp32"), check.passed(), entry ? entry : "?"));
}

void testMisaligned() {
  Gpu& g = gpu();
  Checker check;
  DeviceBuffer da(100 * 64 * 4, 4), db(100 * 64 * 4), dc(100 * 64 * 4), df(4 * 8);
  db.poison();
  dc.poison();
  CUresult status = tensormap_ptr_copy_launch(da.ptr(), db.ptr(), dc.ptr(), df.ptr(), 100, g.stream);
  const char* message = cpasync_facts_last_error();
  if (!isRefusal("A 4 bytes off", status, message ? message : "", "tensormap_ptr_copy_launch", {"A aligned to 16 bytes"}))
    check.fail("not refused as expected");
  if (!db.untouchedSincePoison() || !dc.untouchedSincePoison()) check.fail("wrote B or C although refused");
  report(untimedResult("cpasync_facts_refused", "100x64 fp32 A+4B", check.passed(), "launcher error"));
}

}  // namespace

int main() {
  printVariants("cpasync_facts", tensormap_ptr_copy_variant_entry);
  testShape(37);    // ragged: M % 16 != 0
  testShape(1);
  testShape(16);    // one whole tile
  testShape(17);
  testShape(1009);  // a prime
  testMisaligned();
  return finish();
}
