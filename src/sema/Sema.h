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
#include "ir/Target.h"
#include "support/Diagnostics.h"

namespace tlc {

struct Define {
  std::string name;   // a `const` declared in the file
  std::string value;  // an integer literal or a dtype name
};

struct SemaOptions {
  std::vector<Define> defines;  // -D NAME=VALUE, in command-line order
  std::string arch = "sm_90a";
  Target target = Target::hopper();
};

std::unique_ptr<ir::Module> analyze(const ast::File& file, const SemaOptions& options,
                                    DiagnosticEngine& diags);

}  // namespace tlc
