// fuzz_budgets.h: the sema budgets both fuzz targets run with, below the compiler's
// (ir/Limits.def). An input at a full budget costs sema seconds under ASan +
// coverage, near libFuzzer's 10 s per input (scripts/fuzz.sh), and a loaded machine
// made such seeds time out (in CI: a file at the statement budget, 9 s an
// architecture; in the fifteenth session: a 256 x 4096 Fragment layout). The error
// paths are the same at any budget; tests/golden/limits holds the real ones.
#pragma once

#include "ir/Limits.h"
#include "sema/Sema.h"

namespace tlc::fuzz {

inline void lowerSemaBudgets(SemaOptions& options) {
  options.expandedStatementsPerFile = ir::limits::ExpandedStatementsPerFile / 8;
  // A quarter still takes one layout at 256 x 4096 (the seed
  // limits/fail_fragment_layout_iterations.tl has one), not several.
  options.layoutIterationsPerFile = ir::limits::LayoutIterationsPerFile / 4;
}

}  // namespace tlc::fuzz
