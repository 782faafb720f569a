// fuzz_frontend: a libFuzzer target over tlc's in-process phases.
//
// Each input is a .tl file (arbitrary bytes). It is parsed, analyzed, lowered and
// checked (ir::verifyLoopIR), exactly as tlc/Pipeline.cpp runs those phases, with
// the printers of each product run too; diagnostics go to a discarded stream.
// LLVM code generation is left out (milliseconds per input): fuzz_backend.cpp takes
// what lowering accepts on through the backend.
//
// A finding is a crash, a sanitizer report (the target is built with ASan + UBSan),
// an `internal error` (DiagnosticEngine::internalError aborts), a timeout (a hang),
// or running out of the -rss_limit_mb budget.
//
// Built twice (tests/fuzz/CMakeLists.txt):
//   fuzz_frontend         libFuzzer's byte mutations, with tl.dict as the dictionary;
//   fuzz_frontend_tokens  the same target with a structure-aware custom mutator
//                         (TLC_FUZZ_TOKEN_MUTATOR): it splits the input into tokens
//                         and deletes, duplicates, swaps or replaces whole tokens,
//                         numbers with boundary values, so mutants of the seed
//                         programs stay mostly well-formed and reach sema and lowering.
// scripts/fuzz.sh runs them (seeds: every .tl in the repo and the spec's examples).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "frontend/Parser.h"
#include "ir/IR.h"
#include "lower/Lower.h"
#include "sema/Sema.h"
#include "support/Diagnostics.h"
#include "fuzz_budgets.h"

namespace {

// A stream that drops everything: the fuzzer checks behavior, not messages.
class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == EOF ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return -1;  // larger inputs test nothing new; keep runs fast
  static NullBuffer nullBuffer;
  static std::ostream null(&nullBuffer);

  tlc::SourceFile source("fuzz.tl", std::string(reinterpret_cast<const char*>(data), size));
  tlc::DiagnosticEngine diags(null);
  diags.setFile(&source);
  diags.setErrorLimit(0);
  diags.setShowRemarks(true);

  std::unique_ptr<tlc::ast::File> syntax = tlc::parseFile(source, diags);
  if (!syntax || diags.hasErrors()) return 0;
  tlc::ast::print(*syntax, null);

  // Hopper, and sm_80 (no TMA, no clusters: sema refuses more, lowering takes other
  // routes), each from its own sema.
  for (const char* arch : {"sm_90a", "sm_80"}) {
    tlc::SemaOptions semaOptions;
    semaOptions.target = *tlc::Target::fromArch(arch);
    tlc::fuzz::lowerSemaBudgets(semaOptions);  // fuzz_budgets.h says why
    std::unique_ptr<tlc::ir::Module> tileIR = tlc::analyze(*syntax, semaOptions, diags);
    if (!tileIR || diags.hasErrors()) return 0;
    tlc::ir::print(*tileIR, null);

    tlc::LowerOptions lowerOptions;
    lowerOptions.target = semaOptions.target;
    lowerOptions.remarks = true;
    std::unique_ptr<tlc::ir::Module> loopIR = tlc::lower(*tileIR, lowerOptions, diags);
    if (!loopIR || diags.hasErrors()) return 0;
    for (const tlc::ir::Kernel& kernel : loopIR->kernels) tlc::ir::verifyLoopIR(kernel, diags);
    tlc::ir::print(*loopIR, null);
  }
  return 0;
}

#ifdef TLC_FUZZ_TOKEN_MUTATOR
#include "token_mutator.h"  // structure-aware mode
#endif
