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
