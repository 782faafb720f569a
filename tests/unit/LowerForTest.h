// LowerForTest: a .tl text through parse, sema and lowering to loop IR, for unit tests
// that inspect or interpret the loop IR. Any diagnostic fails the test that called it
// (REQUIRE), with the diagnostics as the message.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "frontend/Parser.h"
#include "ir/Target.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

namespace tlc::test {

inline std::unique_ptr<ir::Module> lowerForTest(const std::string& text, const Target& target = Target::hopper(),
                                                std::vector<Define> defines = {}, const std::string& name = "t.tl") {
  SourceFile source(name, text);
  std::ostringstream sink;
  DiagnosticEngine diags(sink);
  diags.setFile(&source);
  auto file = parseFile(source, diags);
  REQUIRE_MESSAGE(file, sink.str());
  auto tileIR = analyze(*file, SemaOptions{std::move(defines), target}, diags);
  REQUIRE_MESSAGE((tileIR && !diags.hasErrors()), sink.str());
  auto loopIR = lower(*tileIR, LowerOptions{target, false}, diags);
  REQUIRE_MESSAGE((loopIR && !diags.hasErrors()), sink.str());
  return loopIR;
}

}  // namespace tlc::test
