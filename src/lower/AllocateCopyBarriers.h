// AllocateCopyBarriers: the automatic mbarriers of the kernel's TMA loads.
//
// Before: copy paths chosen, Pipelined loops split (PipelineLoops); no shared
// offsets yet. After: when any copy is an automatic TMA load (TmaLoad, Im2colTma or
// Multicast: not tma_copy, whose barrier is the user's), the kernel has one more
// shared allocation, an array of 8-byte mbarriers (Buffer::copyBarriers), and each
// such copy names it and its index in it: one barrier per unpipelined load, one
// per stage of a pipelined load's ring (both parts of the ring share them), in
// program order. So PlanSharedMemory places them with the tiles and checks their
// total against the target's limit.
#pragma once

#include "ir/IR.h"

namespace tlc {

void allocateCopyBarriers(ir::Kernel& kernel);

}  // namespace tlc
