// LowerTileOps: copies, Parallel loops and fills become thread-partitioned loops.
//
// Before: tile IR with barriers inserted and fragment layouts chosen.
// After: no CopyOp, ParallelOp or FillOp remain; Pipelined loops are serial loops;
// every fragment access is an access to the fragment's per-thread Local array at a
// constant index (the loops over a fragment's elements are unrolled), so fragments
// live in registers; a view of a fragment is its fragment's array (no allocation).
// Element accesses of other buffers keep their multi-dimensional indices
// (FlattenBufferAccess flattens them).
//
// Each copy is lowered by the strategy ChooseCopyPaths recorded on it
// (lower/copy/CopyStrategy.h), which it does not revisit; the partition and access
// widths they and the Parallel loops share are lower/copy/CopyLowering.h's. The
// automatic mbarriers (AllocateCopyBarriers) are initialised at entry, with the
// user's alloc_barrier ones, and the tensor maps prefetched.
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
