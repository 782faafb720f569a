// PlanSharedMemory: places every shared tile in the block's dynamic shared memory.
//
// Before: Shared buffers have no offset. After: each has a byte offset, aligned to
// 1024 bytes (the alignment the 128-byte TMA swizzle needs, so later layouts never
// move a tile; mbarrier arrays 8 bytes), and the kernel's dynamicSharedBytes is
// their total; a view of a tile (Buffer::viewOf) takes its tile's offset and adds
// nothing. Every pass that adds shared memory (PipelineLoops' rings,
// AllocateCopyBarriers' mbarriers) runs before it: later passes add none. A total
// beyond what one block may use on the target is an error at the kernel.
#pragma once

#include "ir/IR.h"
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

// Returns false after reporting an error (more than target.maxSharedBytesPerBlock()).
bool planSharedMemory(ir::Kernel& kernel, const Target& target, DiagnosticEngine& diags);

}  // namespace tlc
