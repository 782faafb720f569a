// ChooseCopyPaths: which strategy carries out each copy, decided once.
//
// Before: tile IR, every CopyOp's path Undecided. After: each CopyOp has a plan
// naming its strategy (lower/copy/CopyStrategy.h: the first of copyStrategies()
// that considers the copy, has no obstacle on this target and makes a plan), the
// path that strategy uses (TmaLoad, TmaStore, TmaMulticast, BulkDsmem, CpAsync or
// Simt) and, when it is not the first choice, why the earlier ones were not
// taken (for --remarks). LowerTileOps lowers each copy by that strategy.
// By default (measured, docs/performance.md): a load directly in a Pipelined
// loop's body is TMA, another global -> shared load is cp.async, a store is SIMT;
// on a target without TMA (or cp.async) the next strategy takes the copy and the
// remark names what the target lacks.
// What the user asked for and no strategy can give is an error here: tma_copy that
// cannot use TMA, prefer_instruction="tma" that cannot (except where the obstacle
// is the shared tile's layout or a target without TMA: the copy then takes
// another strategy and the remark says why), prefer_instruction="cp_async" or
// async_copy on a copy that is not global -> shared of one dtype, and a
// copy_cluster some threads (or blocks) may not reach.
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

}  // namespace tlc
