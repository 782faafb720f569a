// tma_descriptor: B = A through user tensor maps (tests/gpu/kernels/tma_descriptor_copy.tl:
// tma_descriptor, prefetch_tma_descriptor, mbarrier_expect_tx, tma_load on an
// alloc_barrier, tma_store + tma_store_arrive + tma_store_wait), bit-exact, ragged
// shapes (M not a multiple of 32, N not of 64); arguments TMA cannot take refused
// by the launcher with a message naming them.
#include <cstring>

#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tma_descriptor_copy.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void testShape(int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint16_t> a(count), b(count);
  fillRandomBits(a, 104729u * M + N);
  DeviceBuffer da(count * 2), db(count * 2);
  da.upload(a.data());
  db.poison();
  if (launchAndWait(desc_copy_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result r;
  r.name = "tma_descriptor";
  r.shape = shapeString({M, N}, "fp16");
  r.variant = desc_copy_variant_entry(0);
  r.bytes = 2.0 * count * 2;
  if (check.passed() && count >= (1u << 22))
    r.ms = medianMs([&](int) { return desc_copy_launch(da.ptr(), db.ptr(), M, N, g.stream); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

// Arguments the TMA-only kernel cannot take: an error that names `who`, B untouched.
void testRefused(int M, int N, size_t offsetA, const char* who, const char* what) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  DeviceBuffer da(count * 2, offsetA), db(count * 2);
  db.poison();
  CUresult status = desc_copy_launch(da.ptr(), db.ptr(), M, N, g.stream);
  const char* message = tma_descriptor_copy_last_error();
  if (status != CUDA_ERROR_INVALID_VALUE) check.fail("expected CUDA_ERROR_INVALID_VALUE");
  if (!message || !std::strstr(message, who) || !std::strstr(message, "no fallback")) {
    std::fprintf(stderr, "    message: %s\n", message ? message : "(null)");
    check.fail("the message does not name the argument");
  }
  CU_CHECK(cuStreamSynchronize(g.stream));
  std::vector<uint8_t> b(count * 2);
  db.download(b.data());
  for (size_t i = 0; i < b.size(); ++i)
    if (b[i] != DeviceBuffer::kPoisonByte) {
      check.fail("wrote B although refused");
      break;
    }
  Result r;
  r.name = "tma_descriptor_refused";
  r.shape = shapeString({M, N}, "fp16") + " " + what;
  r.variant = "launcher error";
  r.pass = check.passed();
  report(r);
}

}  // namespace

int main() {
  testShape(1000, 1000);  // M % 64 != 0, N % 128 != 0
  testShape(1, 256);      // M = 1
  testShape(64, 128);     // one tile
  testShape(65, 128);     // one tile and one row
  testShape(130, 136);
  testShape(127, 8);      // a box wider than the tensor
  testShape(4096, 4096);  // timed
  testShape(8192, 8192);  // timed
  testRefused(100, 256, 2, "A aligned to 16 bytes", "A 2 bytes off");
  testRefused(100, 1001, 0, "N % 8 == 0", "N odd");
  return finish();
}
