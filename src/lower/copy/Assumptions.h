// Assumptions: the run-time facts about parameters a kernel variant may assume (a
// pointer 16-byte aligned, a stride a multiple of 8), and the proofs that use them.
// Shared by the copy strategies' plans (a TMA copy's tensor map, an access width)
// and LowerTileOps (the user's cp.async and tensor maps).
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "ir/IR.h"

namespace tlc {

// Parameter -> the multiple it must be (a Handle: its byte alignment). Looked up by
// variable, never iterated for output: inParamOrder gives the order.
using AssumptionMap = std::map<const ir::VarNode*, int64_t, ir::ById>;

// True when `e` is a multiple of `m` for every run, possibly by assuming so of a
// parameter of `kernel` (recorded in `need`) when `allowAssumptions`.
bool provablyMultiple(const ir::Kernel& kernel, bool allowAssumptions, const ir::ExprRef& e, int64_t m,
                      AssumptionMap& need);

// `need`'s facts in the order of the kernel's parameters.
std::vector<std::pair<ir::VarRef, int64_t>> inParamOrder(const ir::Kernel& kernel, const AssumptionMap& need);

// " where A is 16-byte aligned and N % 8 == 0" (nothing when `need` is empty).
void describeAssumptions(std::ostringstream& os, const ir::Kernel& kernel, const AssumptionMap& need);

}  // namespace tlc
