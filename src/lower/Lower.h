// Lower: the lowering pipeline, from tile IR to loop IR.
//
// Before: a tile-IR module from Sema. After: a loop-IR module (ir::verifyLoopIR
// holds): copies expanded into thread-partitioned, vectorized, predicated loop
// nests, Parallel loops partitioned over the block's threads, fragments turned into
// per-thread register arrays, block barriers inserted where shared memory needs
// them, shared memory planned. A kernel whose fast form relies on run-time facts
// (16-byte aligned pointers, row strides that are multiples of the vector width)
// yields two variants: the fast one with its Assumptions, then a general one.
// The passes, in order, are listed in Lower.cpp.
#pragma once

#include <memory>

#include "ir/IR.h"
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

struct LowerOptions {
  Target target = Target::hopper();  // lowering uses only what it has
  bool remarks = false;  // report each copy's lowering choice as a remark
};

std::unique_ptr<ir::Module> lower(const ir::Module& tileIR, const LowerOptions& options,
                                  DiagnosticEngine& diags);

}  // namespace tlc
