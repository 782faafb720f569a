// PlanSharedMemory: places every shared tile in the block's dynamic shared memory.
//
// Before: Shared buffers have no offset. After: each has a byte offset, aligned to
// 1024 bytes (the alignment the 128-byte TMA swizzle needs, so later layouts never
// move a tile), and the kernel's dynamicSharedBytes is their total. A total beyond
// what one block may use is an error at the kernel.
#pragma once

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {

// The most dynamic shared memory one block may use on sm_90 (227 KB).
constexpr int64_t kMaxDynamicSharedBytes = 232448;

bool planSharedMemory(ir::Kernel& kernel, DiagnosticEngine& diags);

}  // namespace tlc
