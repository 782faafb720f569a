// MarkRegionStarts: which axes of a copy's or fill's global region may start below 0.
//
// Before: tile IR after PipelineLoops (the copies and fills still tile operations).
// After: every global Region of a CopyOp or FillOp whose start on some axis is not
// provably non-negative has Region::startMayBeNegative set for that axis, so that
// CopyLowering::inBounds tests `index >= 0` there as well as `index < extent`
// (TileLang's copy predicates test both ends; `copy(A[by * 4 - 1, ...], s)` reads
// row -1 in block 0, which must give the safe value, not the memory before A).
//
// Non-negative, structurally: constants >= 0, thread/block/cluster indices, Dim
// parameters (the launcher refuses negative sizes), the variables of Parallel loops,
// of `for` loops whose start is non-negative and whose step is positive, and of
// `let`s of non-negative values; sums, products, floor quotients, remainders by a
// positive constant, shifts, min/max and selects of them. Anything else (a
// subtraction, a scalar parameter, a value read from memory) may be negative.
#pragma once

#include <set>

#include "ir/IR.h"

namespace tlc {

void markRegionStarts(ir::Kernel& kernel);

// Whether `e` is provably >= 0 given the variables in `nonNegative` (exposed for tests).
bool provablyNonNegative(const ir::ExprRef& e, const std::set<const ir::VarNode*>& nonNegative);

}  // namespace tlc
