// Parser: the frontend's entry points. ANTLR stays behind this header.
//
// Before: a SourceFile with arbitrary bytes. After: an ast::File whose every node
// has a source range, or nullptr when the file had syntax errors (each one already
// reported through the DiagnosticEngine, one per mistake).
#pragma once

#include <iosfwd>
#include <memory>

#include "frontend/AST.h"
#include "support/Diagnostics.h"

namespace tlc {

// Parses a whole file. Never throws; invalid UTF-8, deep nesting and the like become
// diagnostics.
std::unique_ptr<ast::File> parseFile(const SourceFile& file, DiagnosticEngine& diags);

// `--emit=tokens`: one token per line, `line:col KIND 'text'`. Returns false on lexical errors.
bool dumpTokens(const SourceFile& file, DiagnosticEngine& diags, std::ostream& out);

}  // namespace tlc
