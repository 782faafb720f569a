// PipelineLoops: software pipelining of the TMA loads in `Pipelined` loops.
//
// Before: tile IR with copy paths chosen; a `for k in Pipelined(n, num_stages=S)`
// loop is still marked Pipelined. After: every such loop is Serial. When its body
// loads a shared tile T by TMA (at the body's top level, T written by nothing else
// in the loop and used nowhere outside it, neither a view nor a tile with one, the source region not depending on
// values computed in the body; for an im2col load, its first row and column), T
// becomes a ring of S tiles served by a ring of S
// mbarriers: the loads of iterations 0..S-2 are issued before the loop, iteration
// k issues the load of iteration k+S-1 where the copy stood and then waits for its
// own stage (parity (k / S) % 2), and every other access to T reads stage k % S.
// So the loop's work overlaps S-1 loads in flight; the barrier InsertBarriers puts
// before each issue keeps a stage from being refilled while it is still read.
// A loop that cannot be pipelined stays serial and says why (for --remarks); on a
// target without TMA (`target`) no loop is, and the remark says so.
#pragma once

#include <vector>

#include "ir/IR.h"
#include "ir/Target.h"
#include "lower/LowerTileOps.h"

namespace tlc {

void pipelineLoops(ir::Kernel& kernel, const Target& target, std::vector<CopyLoweringNote>& notes);

}  // namespace tlc
