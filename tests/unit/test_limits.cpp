// Resource limits (issue 9): inputs far larger than any real program stay bounded.
// The diagnostics for single oversized constructs are golden tests
// (tests/golden/limits); here, what is too slow for a golden file.
#include <doctest/doctest.h>

#include <chrono>
#include <sstream>
#include <string>

#include "frontend/Parser.h"
#include "ir/IR.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

using namespace tlc;

TEST_CASE("3000 kernels in one file: parse, sema and lowering in bounded time") {
  // The whole pipeline on this file takes about a minute, nearly all of it in
  // ptxas (linear in the number of kernels); the front and middle are seconds.
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "kernel k" + std::to_string(i) +
            "(A: Tensor((N,), float32)) {\n"
            "  with Kernel(ceildiv(N, 128), threads=128) as (bx) {\n"
            "    for i in Parallel(128) { A[bx * 128 + i] = A[bx * 128 + i] + 1.0; }\n"
            "  }\n"
            "}\n";
  auto start = std::chrono::steady_clock::now();
  std::ostringstream err;
  DiagnosticEngine diags(err);
  SourceFile source("many.tl", text);
  diags.setFile(&source);
  auto file = parseFile(source, diags);
  REQUIRE(file);
  auto tileIR = analyze(*file, SemaOptions{}, diags);
  REQUIRE(tileIR);
  CHECK(tileIR->kernels.size() == 3000);
  auto loopIR = lower(*tileIR, LowerOptions{}, diags);
  REQUIRE(loopIR);
  CHECK(loopIR->kernels.size() >= 3000);
  CHECK(err.str().empty());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 120);  // 3 s under ASan on a loaded 2-core machine
}

// Parses and analyzes `text` as file `name` under `options`: whether sema produced
// tile IR, and every message it printed.
static bool analyzeText(const std::string& name, const std::string& text, const SemaOptions& options,
                        std::string& messages) {
  std::ostringstream err;
  DiagnosticEngine diags(err);
  SourceFile source(name, text);
  diags.setFile(&source);
  auto file = parseFile(source, diags);
  REQUIRE(file);
  auto tileIR = analyze(*file, options, diags);
  messages = err.str();
  return tileIR != nullptr;
}

TEST_CASE("the budget of expanded statements per file is SemaOptions' (the fuzzers run with an eighth)") {
  // Three kernels of 64 stores each (a depth-6 chain of macros: with the calls and the
  // kernel's own statements, about 130 a kernel): within Limits.def's budget, past a
  // budget of 300 in the second kernel's expansion.
  std::string text = "macro m0(t: SharedBuffer((32,), float32)) { t[0] = t[0] + 1.0; }\n";
  for (int d = 1; d <= 6; ++d)
    text += "macro m" + std::to_string(d) + "(t: SharedBuffer((32,), float32)) { m" + std::to_string(d - 1) + "(t); m" +
            std::to_string(d - 1) + "(t); }\n";
  for (int k = 0; k < 3; ++k)
    text += "kernel k" + std::to_string(k) +
            "(A: Tensor((N,), float32)) { with Kernel(1, threads=32) as (bx) { s = alloc_shared((32,), float32); m6(s); } }\n";
  std::string messages;
  CHECK(analyzeText("budget.tl", text, SemaOptions{}, messages));
  CHECK(messages.empty());
  SemaOptions small;
  small.expandedStatementsPerFile = 300;
  CHECK_FALSE(analyzeText("budget.tl", text, small, messages));
  INFO(messages);
  CHECK(messages.find("brings the file to 301 statements after expansion, past the budget of 300 expanded statements "
                      "per file") != std::string::npos);
  CHECK(messages.find("in the expansion of macro 'm6' here") != std::string::npos);
  CHECK(messages.find("budget.tl:9:") != std::string::npos);  // the second kernel's line
}

TEST_CASE("limits: SemaOptions::layoutIterationsPerFile bounds the layouts a file evaluates") {
  // Three kernels with a 32 x 8 Fragment layout each (256 iterations): a budget of 600
  // evaluates two and refuses the third at its shape; the default takes all three.
  std::string text;
  for (int k = 0; k < 3; ++k)
    text += "kernel k" + std::to_string(k) +
            "(A: Tensor((N,), float32)) {\n  with Kernel(1, threads=32) as (bx) {\n"
            "    L = Fragment((32, 8), thread=(i, j) -> i, index=(i, j) -> j);\n  }\n}\n";
  std::string messages;
  CHECK(analyzeText("layouts.tl", text, SemaOptions{}, messages));
  CHECK(messages.empty());
  SemaOptions small;
  small.layoutIterationsPerFile = 600;
  CHECK_FALSE(analyzeText("layouts.tl", text, small, messages));
  INFO(messages);
  CHECK(messages.find("layouts.tl:13:18: error: this Fragment layout's 256 iterations would bring the file's layouts "
                      "to 768 evaluated iterations, past the budget of 600 a file") != std::string::npos);
  CHECK(messages.find("layouts.tl:3:") == std::string::npos);
  CHECK(messages.find("layouts.tl:8:") == std::string::npos);
}
