// tma_explicit: B = A through the spec's user-managed TMA ring (tma_copy loads on
// two alloc_barriers, barrier_arrive + mbarrier_wait_parity, tma_copy stores,
// tma_store_wait), bit-exact, with M not a multiple of BM (and N not of BN), M = 1
// and a single tile. The kernel has no SIMT variant: arguments TMA cannot take
// (a misaligned pointer, N % 8 != 0) must be refused by the launcher with a
// message naming the argument, and nothing written. The rows: testTmaOnlyCopy
// (harness.h), which tma_descriptor.cpp runs too.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "tma_explicit.h"
#endif
#include TLC_KERNEL_HEADER

// The header's prefix follows the .tl file's name (tma_explicit_ring4.tl: the same
// kernel with a deeper ring).
#ifndef TLC_LAST_ERROR
#define TLC_LAST_ERROR tma_explicit_last_error
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "tma_explicit"
#endif

using namespace gpu_test;

int main() {
  testTmaOnlyCopy(TLC_TEST_NAME, stream_rows_launch, stream_rows_variant_entry(0), TLC_LAST_ERROR);
  return finish();
}
