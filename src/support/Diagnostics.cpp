// Diagnostics: rendering and counting. See Diagnostics.h for the format.
#include "support/Diagnostics.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace tlc {

static const char* kBugReport =
    "please report this compiler bug with the input file and command line";

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (uint32_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') lineStarts_.push_back(i + 1);
}

std::string_view SourceFile::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size()) return {};
  uint32_t begin = lineStarts_[line - 1];
  uint32_t end = line < lineStarts_.size() ? lineStarts_[line] - 1 : (uint32_t)text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

SourceLoc SourceFile::locationOf(uint32_t offset) const {
  offset = std::min<uint32_t>(offset, (uint32_t)text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  uint32_t line = (uint32_t)(it - lineStarts_.begin());
  return SourceLoc{offset, line, offset - lineStarts_[line - 1] + 1};
}

// ------------------------------------------------------------------ warnings

namespace {
struct WarningEntry {
  const char* name;
  const char* summary;
};
constexpr WarningEntry kWarnings[] = {
#define TLC_WARNING(Id, Name, Summary) {Name, Summary},
#include "support/Warnings.def"
};
bool isGroup(std::string_view name) { return name == "all" || name == "extra" || name == "everything"; }
}  // namespace

const char* warningName(Warning w) { return kWarnings[(size_t)w].name; }
const char* warningSummary(Warning w) { return kWarnings[(size_t)w].summary; }

std::optional<Warning> warningFromName(std::string_view name) {
  for (size_t i = 0; i < kWarningCount; ++i)
    if (name == kWarnings[i].name) return (Warning)i;
  return std::nullopt;
}

WarningOptions::FlagResult WarningOptions::apply(std::string_view flag) {
  auto startsWith = [&](std::string_view prefix) { return flag.substr(0, prefix.size()) == prefix; };
  if (flag == "-w") { suppressAll_ = true; return FlagResult::Ok; }
  if (flag == "-Werror") { allAsErrors_ = true; return FlagResult::Ok; }
  if (flag == "-Wno-error") { allAsErrors_ = false; return FlagResult::Ok; }
  // The rest name a warning or a group: find which, then what to do with it.
  std::string_view name;
  enum { Enable, Disable, MakeError, KeepWarning } what;
  if (startsWith("-Werror=")) { name = flag.substr(8); what = MakeError; }
  else if (startsWith("-Wno-error=")) { name = flag.substr(11); what = KeepWarning; }
  else if (startsWith("-Wno-")) { name = flag.substr(5); what = Disable; }
  else if (startsWith("-W")) { name = flag.substr(2); what = Enable; }
  else return FlagResult::NotAWarningFlag;
  if (name.empty()) return FlagResult::UnknownName;

  std::optional<Warning> one = warningFromName(name);
  if (!one && !isGroup(name)) return FlagResult::UnknownName;
  for (size_t i = 0; i < kWarningCount; ++i) {
    if (one && (size_t)*one != i) continue;
    State& s = states_[i];
    switch (what) {
      case Enable: s.enabled = true; break;
      case Disable: s.enabled = false; break;
      // -Werror=name also turns the warning on (as in Clang); -Wno-error=name does not.
      case MakeError: s.enabled = true; s.error = ErrorState::Error; break;
      case KeepWarning: s.error = ErrorState::NoError; break;
    }
  }
  return FlagResult::Ok;
}

WarningOptions::Action WarningOptions::actionFor(Warning w) const {
  const State& s = states_[(size_t)w];
  // -w wins over everything, -Werror=name included (as in Clang).
  if (suppressAll_ || !s.enabled) return Action::Ignore;
  if (s.error == ErrorState::Error || (allAsErrors_ && s.error != ErrorState::NoError)) return Action::Error;
  return Action::Warn;
}

// ------------------------------------------------------------------ engine

DiagnosticEngine::DiagnosticEngine(std::ostream& out) : out_(out) {}

void DiagnosticEngine::error(SourceRange r, std::string m) { report(Severity::Error, r, std::move(m)); }
void DiagnosticEngine::warning(Warning kind, SourceRange r, std::string m) {
  switch (warningOptions_.actionFor(kind)) {
    case WarningOptions::Action::Ignore: suppressNotes_ = true; return;
    case WarningOptions::Action::Warn: report(Severity::Warning, r, std::move(m), kind); return;
    case WarningOptions::Action::Error: report(Severity::Error, r, std::move(m), kind); return;
  }
}
void DiagnosticEngine::note(SourceRange r, std::string m) { report(Severity::Note, r, std::move(m)); }
void DiagnosticEngine::remark(SourceRange r, std::string m) { report(Severity::Remark, r, std::move(m)); }
void DiagnosticEngine::fatal(std::string m) { report(Severity::Error, SourceRange{}, std::move(m)); }

void DiagnosticEngine::report(Severity severity, SourceRange range, std::string message,
                              std::optional<Warning> warning) {
  Diagnostic d{severity, range, std::move(message), warning};
  if (recordOnly_) {
    // What the file's engine would drop anyway is not kept: warnings were mapped by
    // warning(), remarks follow setShowRemarks, notes follow what they attach to.
    if (severity == Severity::Error) ++errorCount_;
    if (severity == Severity::Warning) ++warningCount_;
    if (severity == Severity::Remark && !showRemarks_) {
      suppressNotes_ = true;
      return;
    }
    if (severity == Severity::Note && suppressNotes_) return;
    if (severity != Severity::Note) suppressNotes_ = false;
    all_.push_back(std::move(d));
    return;
  }
  switch (severity) {
    case Severity::Error:
      ++errorCount_;
      if (errorLimit_ && errorCount_ > errorLimit_) {
        suppressNotes_ = true;
        if (!limitReported_) {
          limitReported_ = true;
          out_ << "fatal error: too many errors emitted, stopping now [-ferror-limit=]\n";
        }
        all_.push_back(std::move(d));
        return;
      }
      suppressNotes_ = false;
      break;
    case Severity::Warning:
      ++warningCount_;
      suppressNotes_ = false;
      break;
    case Severity::Remark:
      if (!showRemarks_) { suppressNotes_ = true; return; }
      suppressNotes_ = false;
      break;
    case Severity::Note:
      if (suppressNotes_) return;
      break;
  }
  render(d);
  all_.push_back(std::move(d));
}

void DiagnosticEngine::render(const Diagnostic& d) {
  const char* label = "error";
  const char* color = "\033[1;31m";
  switch (d.severity) {
    case Severity::Note: label = "note"; color = "\033[1;30m"; break;
    case Severity::Remark: label = "remark"; color = "\033[1;34m"; break;
    case Severity::Warning: label = "warning"; color = "\033[1;35m"; break;
    case Severity::Error: break;
  }
  const char* bold = color_ ? "\033[1m" : "";
  const char* reset = color_ ? "\033[0m" : "";
  if (file_ && d.range.valid())
    out_ << bold << file_->path() << ':' << d.range.begin.line << ':' << d.range.begin.column
         << ": " << reset;
  else
    out_ << bold << "tlc: " << reset;
  out_ << (color_ ? color : "") << label << ": " << reset << bold << d.message;
  if (d.warning)
    out_ << (d.severity == Severity::Error ? " [-Werror,-W" : " [-W") << warningName(*d.warning) << ']';
  out_ << reset << '\n';
  if (!file_ || !d.range.valid()) return;

  // The source line with a caret under the start and tildes to the end of the range
  // (clipped to the first line). Tabs are kept so the caret lines up.
  uint32_t line = d.range.begin.line;
  std::string_view text = file_->lineText(line);
  std::string lineNo = std::to_string(line);
  out_ << ' ' << lineNo << " | " << text << '\n';
  out_ << ' ' << std::string(lineNo.size(), ' ') << " | ";
  uint32_t col = d.range.begin.column;
  for (uint32_t i = 1; i < col && i <= text.size(); ++i) out_ << (text[i - 1] == '\t' ? '\t' : ' ');
  uint32_t endCol = d.range.end.line == line ? d.range.end.column : (uint32_t)text.size() + 1;
  if (endCol <= col) endCol = col + 1;
  out_ << (color_ ? "\033[1;32m" : "") << '^';
  for (uint32_t i = col + 1; i < endCol && i <= text.size(); ++i) out_ << '~';
  out_ << reset << '\n';
}

void DiagnosticEngine::internalError(SourceRange range, const std::string& message) {
  if (file_ && range.valid())
    out_ << file_->path() << ':' << range.begin.line << ':' << range.begin.column << ": ";
  out_ << "internal compiler error: " << message << "\n" << kBugReport << "\n";
  out_.flush();
  std::abort();
}

void internalAssertFailed(const char* cond, const std::string& msg, const char* file, int line) {
  std::cerr << "internal compiler error: " << msg << " (" << cond << " at " << file << ":" << line
            << ")\n"
            << kBugReport << "\n";
  std::cerr.flush();
  std::abort();
}

}  // namespace tlc
