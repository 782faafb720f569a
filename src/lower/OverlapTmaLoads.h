// OverlapTmaLoads: automatic TMA loads in a row stay in flight together.
//
// Before: loop IR straight from LowerTileOps. An automatic, unpipelined TMA load
// (TmaLoad without multicast, Im2colTma) is its leader's issue,
//   if (leader) { mbarrier_arrive_expect_tx(B, bytes); tma_load(dst, B, ...) }
// then every thread's wait: mbarrier_wait_parity(B, phase); phase = phase ^ 1.
// So two loads in a row run one after the other: the second is issued only once
// the first has landed, and a block has one tile in flight.
// After: each such wait, with its phase flip, sits after the issues that followed
// it directly (and the other waits among them), as long as those issues write other
// bytes and complete on other barriers: issue t0, issue t1, wait t0, wait t1. Only
// issues and waits move past one another, so every access to a tile still follows
// its wait, and the first statement that is neither still follows every wait that
// was before it. Sequences are flattened only where a wait moves.
#pragma once

#include "ir/IR.h"

namespace tlc {

void overlapTmaLoads(ir::Kernel& kernel);

}  // namespace tlc
