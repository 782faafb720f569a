// Diagnostics unit tests: named warnings (support/Warnings.def), the -W flags
// (WarningOptions, applied in order) and how the engine renders and counts them.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "support/Diagnostics.h"

using namespace tlc;

namespace {

using Action = WarningOptions::Action;
using Result = WarningOptions::FlagResult;

WarningOptions flags(std::initializer_list<const char*> list) {
  WarningOptions o;
  for (const char* f : list) REQUIRE(o.apply(f) == Result::Ok);
  return o;
}

// What the engine prints for one warning of kind `w` under `options`.
std::string render(const WarningOptions& options, Warning w, unsigned* errors = nullptr) {
  std::ostringstream out;
  DiagnosticEngine diags(out);
  diags.setWarningOptions(options);
  diags.warning(w, SourceRange{}, "c2d_im2col is deprecated; use im2col");
  diags.note(SourceRange{}, "a note that goes with it");
  if (errors) *errors = diags.errorCount();
  return out.str();
}

}  // namespace

TEST_CASE("every warning has a unique name that finds it again") {
  for (size_t i = 0; i < kWarningCount; ++i) {
    Warning w = (Warning)i;
    std::string name = warningName(w);
    CHECK(!name.empty());
    CHECK(std::string(warningSummary(w)).size() > 0);
    REQUIRE(warningFromName(name).has_value());
    CHECK(*warningFromName(name) == w);
  }
  CHECK(warningFromName("deprecated") == Warning::Deprecated);
  CHECK(!warningFromName("all").has_value());  // a group, not a warning
  CHECK(!warningFromName("Deprecated").has_value());
}

TEST_CASE("-W flags apply in order; the last one about a warning wins") {
  CHECK(WarningOptions().actionFor(Warning::Deprecated) == Action::Warn);
  CHECK(flags({"-Wno-deprecated"}).actionFor(Warning::Deprecated) == Action::Ignore);
  CHECK(flags({"-Wno-deprecated"}).actionFor(Warning::UnusedTile) == Action::Warn);
  CHECK(flags({"-Wno-deprecated", "-Wdeprecated"}).actionFor(Warning::Deprecated) == Action::Warn);
  CHECK(flags({"-Wno-everything", "-Wdeprecated"}).actionFor(Warning::Deprecated) == Action::Warn);
  CHECK(flags({"-Wno-everything", "-Wdeprecated"}).actionFor(Warning::UnusedTile) == Action::Ignore);
  CHECK(flags({"-Werror"}).actionFor(Warning::Deprecated) == Action::Error);
  CHECK(flags({"-Werror", "-Wno-error"}).actionFor(Warning::Deprecated) == Action::Warn);
  CHECK(flags({"-Werror=deprecated"}).actionFor(Warning::Deprecated) == Action::Error);
  CHECK(flags({"-Werror=deprecated"}).actionFor(Warning::UnusedTile) == Action::Warn);
  CHECK(flags({"-Wno-deprecated", "-Werror=deprecated"}).actionFor(Warning::Deprecated) == Action::Error);
  CHECK(flags({"-Werror", "-Wno-error=deprecated"}).actionFor(Warning::Deprecated) == Action::Warn);
  CHECK(flags({"-Werror", "-Wno-error=deprecated"}).actionFor(Warning::UnusedTile) == Action::Error);
  CHECK(flags({"-Werror=all"}).actionFor(Warning::UnusedTile) == Action::Error);
  // -w wins over everything, an explicit -Werror=name included.
  CHECK(flags({"-Werror=deprecated", "-w"}).actionFor(Warning::Deprecated) == Action::Ignore);
  CHECK(flags({"-w", "-Wdeprecated"}).actionFor(Warning::Deprecated) == Action::Ignore);
}

TEST_CASE("-W flags that name nothing are told apart") {
  WarningOptions o;
  CHECK(o.apply("-Wfoo") == Result::UnknownName);
  CHECK(o.apply("-Wno-foo") == Result::UnknownName);
  CHECK(o.apply("-Werror=") == Result::UnknownName);
  CHECK(o.apply("-Werror=foo") == Result::UnknownName);
  CHECK(o.apply("-O3") == Result::NotAWarningFlag);
  // Nothing changed.
  CHECK(o.actionFor(Warning::Deprecated) == Action::Warn);
}

TEST_CASE("the engine names each warning, and drops a suppressed one with its notes") {
  unsigned errors = 0;
  CHECK(render(WarningOptions(), Warning::Deprecated, &errors) ==
        "tlc: warning: c2d_im2col is deprecated; use im2col [-Wdeprecated]\n"
        "tlc: note: a note that goes with it\n");
  CHECK(errors == 0);
  CHECK(render(flags({"-Werror"}), Warning::Deprecated, &errors) ==
        "tlc: error: c2d_im2col is deprecated; use im2col [-Werror,-Wdeprecated]\n"
        "tlc: note: a note that goes with it\n");
  CHECK(errors == 1);
  CHECK(render(flags({"-Wno-deprecated"}), Warning::Deprecated, &errors).empty());
  CHECK(errors == 0);
}

TEST_CASE("a record-only engine keeps what the file's engine would show, and replay prints it the same") {
  // A kernel group built on a worker thread reports into a record-only engine; the
  // pipeline replays it into the file's engine. The result must be what reporting to
  // the file's engine directly prints, -W flags, remarks and notes included.
  SourceFile file("k.tl", "line one\nline two\n");
  SourceRange at{{0, 1, 1}, {4, 1, 5}};
  auto report = [&](DiagnosticEngine& d) {
    d.warning(Warning::UnusedTile, at, "unused");       // made an error by -Werror
    d.note(at, "attached to the error");
    d.warning(Warning::PipelineNoCopy, at, "ignored");  // turned off: its note goes too
    d.note(at, "dropped with its warning");
    d.remark(at, "hidden remark");                      // remarks are off
    d.note(at, "dropped with its remark");
    d.error(at, "an error");
  };
  WarningOptions options = flags({"-Werror", "-Wno-pipeline-no-copy"});

  std::ostringstream direct;
  DiagnosticEngine file1(direct);
  file1.setFile(&file);
  file1.setWarningOptions(options);
  report(file1);

  std::ostringstream silent, replayed;
  DiagnosticEngine worker(silent);
  worker.setFile(&file);
  worker.setWarningOptions(options);
  worker.setRecordOnly(true);
  report(worker);
  CHECK(silent.str().empty());
  CHECK(worker.errorCount() == 2);
  CHECK(worker.all().size() == 3);
  DiagnosticEngine file2(replayed);
  file2.setFile(&file);
  file2.setWarningOptions(options);
  for (const Diagnostic& d : worker.all()) file2.replay(d);
  CHECK(replayed.str() == direct.str());
  CHECK(file2.errorCount() == file1.errorCount());
  CHECK(replayed.str().find("[-Werror,-Wunused-tile]") != std::string::npos);
}
