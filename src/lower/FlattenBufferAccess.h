// FlattenBufferAccess: multi-dimensional element accesses become flat offsets.
//
// Before: Loads and Stores index buffers with one expression per axis.
// After: every Load and Store has one index, the element offset
// sum(index[a] * stride[a]); for a shared tile, with its layout applied
// (ir::sharedElementOffset: a swizzle permutes pieces of each row). Global
// offsets are computed in 64 bits (tensors may hold more than 2^31 elements);
// shared and local offsets in 32 bits. An access through a view of a local buffer
// (Buffer::viewOf) becomes an access to the buffer at the same flat offset, and the
// view leaves the allocations.
#pragma once

#include "ir/IR.h"

namespace tlc {

void flattenBufferAccess(ir::Kernel& kernel);

}  // namespace tlc
