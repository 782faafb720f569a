// BulkDsmem: copy_cluster(shared, shared, dst_block=b, remote_barrier=bar) by bulk
// copies into block b's tile (cp.async.bulk.shared::cluster.shared::cta), split
// phase, with no cluster barrier. Thread 0 (after the fence.proxy.async and block
// barrier that InsertBarriers put before the copy) arrives on b's barrier expecting
// the copy's bytes (mbarrier.arrive.expect_tx.release.cluster, so the arrival cannot
// complete the phase before the bytes land), then issues the bulk copies, each
// completing its bytes on that barrier (complete_tx). The destination and the
// barrier are mapped into block b with mapa; block b waits with
// mbarrier_wait_parity, this block does not wait. A run-time rank outside the
// cluster copies and signals nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tlc {

// How a copy_cluster(dst_block=, remote_barrier=) moves its region with bulk DSMEM
// copies (cp.async.bulk.shared::cluster.shared::cta): runs of `runBytes`
// contiguous bytes on both sides, one per index of `rowExtents` (row-major; none =
// one run). Run `idx` starts at srcStart + sum(idx[d] * srcStrides[d]) bytes into
// the source tile and dstStart + sum(idx[d] * dstStrides[d]) into the destination
// tile. Every start and stride and runBytes are multiples of 16 (tiles are placed
// 1024-byte aligned, PlanSharedMemory).
struct BulkDsmemPlan : ir::CopyPlan {
  BulkDsmemPlan() : CopyPlan("BulkDsmem") {}
  int64_t runBytes = 0;
  std::vector<int64_t> rowExtents, srcStrides, dstStrides;
  int64_t srcStart = 0, dstStart = 0;
  int64_t rows() const {
    int64_t n = 1;
    for (auto e : rowExtents) n *= e;
    return n;
  }
  int64_t totalBytes() const { return runBytes * rows(); }
};
// The plan for `c` (a shared -> shared copy), or nullopt with `why` saying what
// rules the bulk copy out: a conversion, a SIMT option (loop_layout,
// coalesced_width), a swizzle on one side that the other does not share, a start
// known only at run time, or runs, starts or row distances that are not multiples
// of 16 bytes. Two whole tiles of the same shape, dtype and layout (swizzled or
// padded alike) are one run of the tile's bytes.
std::optional<BulkDsmemPlan> planBulkDsmem(const ir::CopyOp& c, std::string& why);

}  // namespace tlc
