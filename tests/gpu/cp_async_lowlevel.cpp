// cp_async_lowlevel: the spec's low-level cp.async program (cp_async_gs_conditional
// of 16 bytes per thread into a 16 x 64 fp32 tile, commit, wait, block barrier, a
// copy back out): B = A bit-exact, with M not a multiple of 16 (the rows past M are
// zero-filled in shared memory and never written to B), and a misaligned A refused
// by the launcher with a message naming it (the kernel has no fallback).
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "cp_async_lowlevel.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * 64;
  Checker check;
  std::vector<uint32_t> a(count), b(count);
  fillRandomBits(a, 7727u * M + 3);
  DeviceBuffer da(count * 4), db(count * 4);
  da.upload(a.data());
  db.poison();
  if (launchAndWait(lowlevel_copy_launch(da.ptr(), db.ptr(), M, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "cp_async_lowlevel";
  r.shape = shapeString({M, 64}, "fp32");
  r.variant = lowlevel_copy_variant_entry(0);
  r.bytes = 2.0 * count * 4;
  if (check.passed() && count >= (1u << 22))
    r.ms = medianMs([&](int) { return lowlevel_copy_launch(da.ptr(), db.ptr(), M, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

void testMisaligned() {
  Gpu& g = gpu();
  Checker check;
  DeviceBuffer da(100 * 64 * 4, 4), db(100 * 64 * 4);
  db.poison();
  CUresult status = lowlevel_copy_launch(da.ptr(), db.ptr(), 100, g.stream);
  const char* message = cp_async_lowlevel_last_error();
  if (status != CUDA_ERROR_INVALID_VALUE) check.fail("expected CUDA_ERROR_INVALID_VALUE");
  if (!message || !std::strstr(message, "A aligned to 16 bytes")) {
    std::fprintf(stderr, "    message: %s\n", message ? message : "(null)");
    check.fail("the message does not name A");
  }
  Result r;
  r.name = "cp_async_lowlevel_refused";
  r.shape = "100x64 fp32 A 4 bytes off";
  r.variant = "launcher error";
  r.pass = check.passed();
  report(r);
}

}  // namespace

int main() {
  testShape(1000);   // M % 16 != 0
  testShape(1);
  testShape(16);
  testShape(17);
  testShape(65537);  // timed, ragged
  testMisaligned();
  return finish();
}
