// Sema: semantic analysis, from the AST to tile IR.
//
// Before: a syntactically valid ast::File. After: an ir::Module in tile IR form
// (see ir/IR.h) with one Kernel per `kernel` declaration: names resolved, consts
// folded (with -D overrides applied), macros inlined, dtypes checked, buffers and
// parameters classified, copy regions built with their extents checked; or nullptr
// when any error was reported. Constructs that later issues lower are reported as
// `not yet supported: <what>` at their location. Diagnostics reach `diags` in source
// order, each with its notes (declarations, macro expansions).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "ir/IR.h"
#include "ir/Limits.h"
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

struct Define {
  std::string name;   // a `const` declared in the file
  std::string value;  // an integer literal or a dtype name
};

struct SemaOptions {
  std::vector<Define> defines;  // -D NAME=VALUE, in command-line order
  Target target = Target::hopper();  // a construct it lacks is an error at its line
  // The budget of expanded statements per file (ir/Limits.def). The pipeline keeps the
  // table's; the fuzzers lower it, so that an input at the budget stays well inside
  // libFuzzer's per-input timeout under ASan (the full budget costs sema 0.4 s a run
  // in a release build, 9 s under ASan + coverage). The golden tests hold the real one.
  int64_t expandedStatementsPerFile = ir::limits::ExpandedStatementsPerFile;
  // The same for the iterations of layouts evaluated per file (Limits.def).
  int64_t layoutIterationsPerFile = ir::limits::LayoutIterationsPerFile;
};

std::unique_ptr<ir::Module> analyze(const ast::File& file, const SemaOptions& options,
                                    DiagnosticEngine& diags);

}  // namespace tlc
