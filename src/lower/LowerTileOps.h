// LowerTileOps: copies, Parallel loops and fills become thread-partitioned loops.
//
// Before: tile IR with barriers inserted and fragment layouts chosen.
// After: no CopyOp, ParallelOp or FillOp remain; Pipelined loops are serial loops;
// every fragment access is an access to the fragment's per-thread Local array at a
// constant index (the loops over a fragment's elements are unrolled), so fragments
// live in registers. Element accesses of other buffers keep their
// multi-dimensional indices (FlattenBufferAccess flattens them).
//
// The partition: a tile of `numel` elements is cut into groups of `vec` consecutive
// elements (row-major); group g goes to thread g % threads. A fragment's groups
// follow its FragmentLayout, so a copy into a fragment and a Parallel loop over it
// give each element to the same thread. Memory is accessed `width` elements at a
// time (width divides vec): the widest access that is contiguous, aligned and
// either wholly inside or wholly outside the tensor. Where that width holds only
// under run-time facts (a pointer 16-byte aligned, a row stride a multiple of the
// width) and `allowAssumptions` is set, those facts become the kernel's
// Assumptions; otherwise the width shrinks until it is provable.
//
// An im2col copy (ir::Im2col) whose path is TmaLoad is one TMA im2col-mode load of
// the whole tile (lower/Im2colTma.h) on an automatic mbarrier (or its ring stage's),
// whose tensor map becomes an im2col TensorMap parameter; the image's alignment, its
// strides and a symbolic C become assumptions. Otherwise it is partitioned like a
// copy over its (BM, BK) tile; each group of `width` columns lies in one kernel tap
// when C is a multiple of the width, so it is one contiguous run of the image's
// channels: one cp.async (4, 8 or 16 bytes, source size 0 to zero-fill a pixel
// outside the image or a row/column past the column matrix; the eviction policy as
// an L2 cache hint) or, for narrower widths, predicated loads and stores.
#pragma once

#include <string>
#include <vector>

#include "ir/IR.h"
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

struct TileOpLoweringOptions {
  Target target = Target::hopper();
  bool allowAssumptions = false;
};

// How one copy was lowered, for --remarks.
struct CopyLoweringNote {
  SourceRange range;
  std::string copy;    // "copy A -> A_s"
  std::string how;     // "a SIMT loop, 8-element (16-byte) vectors where ..."
  std::string whyNot;  // why a faster path was not taken, or empty
};

// Returns false after reporting an error.
bool lowerTileOps(ir::Kernel& kernel, const TileOpLoweringOptions& options, DiagnosticEngine& diags,
                  std::vector<CopyLoweringNote>& notes);

}  // namespace tlc
