// Limits: the expansion budgets of Limits.def as constants, one table for sema (which
// reports them) and lowering (which keeps loops rolled past UnrolledElementsPerThread).
#pragma once

#include <cstdint>

namespace tlc::ir::limits {

#define TLC_LIMIT(Id, Value, Summary) inline constexpr int64_t Id = Value;
#include "ir/Limits.def"

}  // namespace tlc::ir::limits
