// InsertBarriers: block barriers for shared-memory hazards between statements.
//
// Before: tile IR with no compiler-inserted barriers (user `sync_threads()` kept).
// After: a `sync_threads()` stands before every statement that reads a shared
// buffer written since the last barrier (RAW), or writes one read or written since
// (WAR, WAW), including hazards carried around loops. Statements whose execution
// differs between threads (an `if` on the thread index, a Parallel body) are treated
// as one unit: no barrier is ever placed where only some threads would reach it.
// A view of a tile (`view` / `reshape`, Buffer::viewOf) is its tile here: an access
// through either name conflicts with pending accesses through the other.
// A TMA store of a tile written by ordinary stores gets `fence.proxy.async` before
// its barrier; a bulk DSMEM copy (copy_cluster with remote_barrier) always gets the
// fence and the barrier.
#pragma once

#include "ir/IR.h"

namespace tlc {

void insertBarriers(ir::Kernel& kernel);

}  // namespace tlc
