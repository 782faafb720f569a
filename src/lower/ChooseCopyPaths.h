// ChooseCopyPaths: which instruction family carries out each copy.
//
// Before: tile IR, every CopyOp's path Undecided. After: each CopyOp is TmaLoad
// (global -> shared), TmaStore (shared -> global), CpAsync or Simt, and a copy
// that could have been TMA but is not carries the reason (for --remarks).
// By default (measured, docs/performance.md): a load directly in a Pipelined
// loop's body is TMA, another global -> shared load is cp.async, a store is SIMT.
// `prefer_instruction="tma"` asks for TMA, which its static constraints allow when
// the shared side is a whole tile, both
// sides have the same dtype, the tensor's innermost stride is 1, every box extent
// is at most 256 (the outermost may be split), the innermost box is a multiple of
// 16 bytes, rank <= 5, and every thread reaches the copy (its conditions do not
// depend on the thread). Run-time constraints (16-byte aligned base, strides that
// are multiples of 16 bytes) become the variant's assumptions in LowerTileOps.
// `prefer_instruction="sync"` and `disable_tma` force SIMT; `"tma"` makes a copy
// that cannot use TMA an error that says why, except where the obstacle is the
// shared tile's layout (a transpose's swizzle, padding, a TMA swizzle over rows of
// another width than its span): the copy then takes cp.async or SIMT and the
// remark says why. A tile annotated swizzled(t, S) with rows of exactly S bytes
// (and whole 8-row periods) is copied by TMA with the matching swizzle mode.
// A copy with `loop_layout=` is never TMA (one thread issues a TMA copy; there is no
// per-thread mapping to follow); cp.async, a per-thread instruction, may follow it.
// A copy reading a tensor with a non-zero safe value (annotate_safe_value) is
// neither TMA nor cp.async, which both zero-fill past the tensor's end: it is SIMT.
// An im2col copy is TmaLoad (TMA's im2col mode, lower/Im2colTma.h) where the
// constraints of that mode hold, every thread reaches it and the tile's layout is one
// TMA writes; else CpAsync, and the remark names the constraint that failed. Its
// padding is zero whatever the image's safe value.
// copy_cluster(shared, shared, dst_block=, remote_barrier=) is BulkDsmem where
// planBulkDsmem finds a plan (in both variants: it needs no run-time assumption),
// else Simt with the reason; it must be reached by every thread of the block (it
// holds a block barrier), not necessarily by every block of the cluster.
#pragma once

#include <optional>

#include "ir/IR.h"
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

struct CopyPathOptions {
  Target target = Target::hopper();
  bool allowTma = true;  // false for the general (SIMT-only) kernel variant
};

// Returns false after reporting an error.
bool chooseCopyPaths(ir::Kernel& kernel, const CopyPathOptions& options, DiagnosticEngine& diags);

// Why TMA cannot write or read shared tile `s` in its layout, or "".
std::string layoutObstacle(const ir::Buffer& s);

// How a copy_cluster(dst_block=, remote_barrier=) moves its region with bulk DSMEM
// copies (cp.async.bulk.shared::cluster.shared::cta): runs of `runBytes`
// contiguous bytes on both sides, one per index of `rowExtents` (row-major; none =
// one run). Run `idx` starts at srcStart + sum(idx[d] * srcStrides[d]) bytes into
// the source tile and dstStart + sum(idx[d] * dstStrides[d]) into the destination
// tile. Every start and stride and runBytes are multiples of 16 (tiles are placed
// 1024-byte aligned, PlanSharedMemory).
struct BulkDsmemPlan {
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

// The CUtensorMap data type for `t`, or false when TMA cannot move it.
bool tensorMapDataType(ir::DType t, const char** cuName);

}  // namespace tlc
