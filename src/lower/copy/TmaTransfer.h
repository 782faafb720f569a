// TmaTransfer: what the tiled TMA strategies (TmaLoad, TmaStore, UserTma, Multicast)
// share: their plan (the tensor map's run-time assumptions), the obstacles of an
// automatic TMA copy, and the lowering of one copy into TMA instructions.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lower/copy/Assumptions.h"
#include "lower/copy/CopyStrategy.h"
#include "lower/copy/TmaConstraints.h"

namespace tlc {

// The run-time facts the copy's tensor map needs (a 16-byte aligned base, strides
// that are multiples of 16 bytes), assumed by the variant.
struct TmaPlan : ir::CopyPlan {
  using CopyPlan::CopyPlan;
  AssumptionMap need;
  std::optional<TmaRows> rows;  // tma_copy of rows longer than a box (TmaConstraints.h)
};

// The plan of strategy `strategy` for the TMA copy `c`, or null with `why` naming
// the stride no tensor map can take; `userWording` words it as tma_copy's error does.
std::shared_ptr<const ir::CopyPlan> planTmaTransfer(const char* strategy, const ir::CopyOp& c, const CopySite& site,
                                                    bool userWording, std::string& why);

// Why the compiler may not choose TMA for the plain copy `c` on its own (TmaLoad,
// TmaStore): the target, the user's options (cp.async, sync, disable_tma), the
// static constraints, a thread-dependent condition, a loop_layout, a safe value.
std::string automaticTmaObstacle(const ir::CopyOp& c, const CopySite& site);

// The TMA load (TmaLoad, UserTma, Multicast: path TmaLoad or TmaMulticast) or
// store (path TmaStore) of `c`, in its pieces, issued by thread 0 (or, for
// tma_copy, an elected thread per leader group) and, for an automatic load, waited
// for on its mbarrier (or its ring stage's).
ir::StmtRef lowerTmaTransfer(const ir::CopyOp& c, CopyLowering& lowering);

}  // namespace tlc
