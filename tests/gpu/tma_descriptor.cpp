// tma_descriptor: B = A through user tensor maps (tests/gpu/kernels/tma_descriptor_copy.tl:
// tma_descriptor, prefetch_tma_descriptor, mbarrier_expect_tx, tma_load on an
// alloc_barrier, tma_store + tma_store_arrive + tma_store_wait), bit-exact, ragged
// shapes (M not a multiple of 32, N not of 64); arguments TMA cannot take refused
// by the launcher with a message naming them. The rows: testTmaOnlyCopy (harness.h),
// which tma_explicit.cpp runs too.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tma_descriptor_copy.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

int main() {
  testTmaOnlyCopy("tma_descriptor", desc_copy_launch, desc_copy_variant_entry(0), tma_descriptor_copy_last_error);
  return finish();
}
