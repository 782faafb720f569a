// Diagnostics: source files, locations and the one engine every phase reports through.
//
// Format (clang-style):
//   file.tl:3:12: error: message
//     3 | copy(A[0], B);
//       |      ^~~~
// Notes attach to the diagnostic before them. User errors are counted and
// rendered; internal errors (compiler bugs) abort via `internalError` with a
// bug-report line. No exceptions cross phases: a phase reports and returns.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlc {

// A position in a source file. line and column are 1-based; column counts bytes.
struct SourceLoc {
  uint32_t offset = 0;
  uint32_t line = 0;  // 0 = unknown
  uint32_t column = 0;
  bool valid() const { return line != 0; }
};

// A half-open byte range [begin, end) within one file.
struct SourceRange {
  SourceLoc begin;
  SourceLoc end;
  bool valid() const { return begin.valid(); }
};

// One source buffer, owned. Lines are indexed for caret rendering.
class SourceFile {
 public:
  SourceFile(std::string path, std::string text);
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  // The text of 1-based line `line`, without its newline.
  std::string_view lineText(uint32_t line) const;
  // The location of byte `offset`.
  SourceLoc locationOf(uint32_t offset) const;

 private:
  std::string path_;
  std::string text_;
  std::vector<uint32_t> lineStarts_;
};

enum class Severity { Note, Remark, Warning, Error };

// Every named warning (Warnings.def lists them with their -W names).
enum class Warning {
#define TLC_WARNING(Id, Name, Summary) Id,
#include "support/Warnings.def"
};
inline constexpr size_t kWarningCount = 0
#define TLC_WARNING(Id, Name, Summary) + 1
#include "support/Warnings.def"
    ;
// The -W name of a warning ("unused-tile") and a line saying what it is about.
const char* warningName(Warning w);
const char* warningSummary(Warning w);
// The warning with this -W name, if any.
std::optional<Warning> warningFromName(std::string_view name);

// Which warnings are shown and which are errors: the -W flags, applied in
// command-line order (the last flag about a warning wins, as with GCC and Clang).
class WarningOptions {
 public:
  enum class Action { Ignore, Warn, Error };
  enum class FlagResult { Ok, UnknownName, NotAWarningFlag };

  // One flag: -w, -Werror, -Wno-error, -W<name>, -Wno-<name>, -Werror=<name>,
  // -Wno-error=<name>. The groups all, extra and everything name every warning.
  FlagResult apply(std::string_view flag);
  // What a warning of kind `w` becomes under the flags applied so far.
  Action actionFor(Warning w) const;

 private:
  enum class ErrorState : uint8_t { Default, Error, NoError };
  struct State {
    bool enabled = true;  // every warning is on by default
    ErrorState error = ErrorState::Default;
  };
  State states_[kWarningCount] = {};
  bool suppressAll_ = false;  // -w
  bool allAsErrors_ = false;  // -Werror
};

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceRange range;  // may be invalid for file-less diagnostics
  std::string message;
  // A warning's name, also when -Werror made it an error: printed as [-Wname].
  std::optional<Warning> warning;
};

// Collects and prints diagnostics for one compilation. Not thread-safe: one per run,
// and one per kernel being built on another thread (setRecordOnly).
class DiagnosticEngine {
 public:
  explicit DiagnosticEngine(std::ostream& out);

  void setFile(const SourceFile* file) { file_ = file; }
  const SourceFile* file() const { return file_; }
  void setColor(bool on) { color_ = on; }
  // Stop printing errors after this many (0 = no limit); a final line says so.
  void setErrorLimit(unsigned limit) { errorLimit_ = limit; }
  void setWarningOptions(const WarningOptions& options) { warningOptions_ = options; }
  void setShowRemarks(bool on) { showRemarks_ = on; }
  // Record only: diagnostics are kept in all() but not printed, and no error limit
  // applies. A kernel built on a worker thread reports into such an engine of its own
  // (the same warning options, remarks and file); the pipeline then replays what it
  // kept into the file's engine, kernel by kernel in source order, whatever -j is.
  void setRecordOnly(bool on) { recordOnly_ = on; }

  // Reports a diagnostic another engine recorded (its warning options already
  // applied): counted, limited and printed as if reported here.
  void replay(const Diagnostic& d) { report(d.severity, d.range, d.message, d.warning); }

  void error(SourceRange range, std::string message);
  // A named warning: shown, dropped or made an error as the -W flags say, and
  // printed with its name ("... [-Wunused-tile]", "... [-Werror,-Wunused-tile]").
  void warning(Warning kind, SourceRange range, std::string message);
  void note(SourceRange range, std::string message);
  void remark(SourceRange range, std::string message);
  // An error that has no location in the source (I/O, toolchain).
  void fatal(std::string message);

  // A compiler bug: prints the message with a bug-report line and aborts.
  [[noreturn]] void internalError(SourceRange range, const std::string& message);

  unsigned errorCount() const { return errorCount_; }
  unsigned warningCount() const { return warningCount_; }
  bool hasErrors() const { return errorCount_ != 0; }

  // Every diagnostic reported so far (for tests), in order.
  const std::vector<Diagnostic>& all() const { return all_; }

 private:
  void report(Severity severity, SourceRange range, std::string message,
              std::optional<Warning> warning = std::nullopt);
  void render(const Diagnostic& d);

  std::ostream& out_;
  const SourceFile* file_ = nullptr;
  std::vector<Diagnostic> all_;
  unsigned errorCount_ = 0;
  unsigned warningCount_ = 0;
  unsigned errorLimit_ = 20;
  bool limitReported_ = false;
  bool suppressNotes_ = false;  // notes after a suppressed diagnostic are dropped
  bool color_ = false;
  WarningOptions warningOptions_;
  bool showRemarks_ = false;
  bool recordOnly_ = false;
};

// Aborts with a bug-report line when `cond` is false; for invariants between passes.
#define TLC_ASSERT(cond, msg)                                                  \
  do {                                                                         \
    if (!(cond)) ::tlc::internalAssertFailed(#cond, msg, __FILE__, __LINE__);  \
  } while (0)

[[noreturn]] void internalAssertFailed(const char* cond, const std::string& msg,
                                       const char* file, int line);

}  // namespace tlc
