// Pipeline: runs the phases in order (read, lex, parse, check, lower, LLVM, PTX,
// cubin, header), prints the stages asked for and writes the outputs atomically.
#include "Pipeline.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <thread>

#include "backend/Backend.h"
#include "backend/Header.h"
#include "backend/Meta.h"
#include "backend/Sass.h"
#include "frontend/Parser.h"
#include "ir/IR.h"
#include "lower/Lower.h"
#include "sema/Sema.h"
#include "support/FileIO.h"
#include "support/OrderedParallel.h"

namespace tlc {

// The largest source file read: 16 MiB is about 40,000 kernels of the examples'
// size, and it bounds what the lexer and parser can be made to hold (see
// kMaxTokens in src/frontend/Parser.cpp) whatever the path names (/dev/zero).
constexpr size_t kMaxSourceBytes = size_t(16) << 20;

// ---------------------------------------------------------------- stages

namespace {
struct StageSpelling {
  Stage stage;
  const char* name;
};
constexpr StageSpelling kStageSpellings[] = {
    {Stage::Tokens, "tokens"}, {Stage::Ast, "ast"},   {Stage::TileIR, "ir"},
    {Stage::LoopIR, "loops"},  {Stage::LLVM, "llvm"}, {Stage::PTX, "ptx"},
    {Stage::Cubin, "cubin"},   {Stage::Header, "header"}, {Stage::Source, "source"},
    {Stage::Meta, "meta"},     {Stage::Sass, "sass"},
};
}  // namespace

const char* stageName(Stage stage) {
  for (const StageSpelling& s : kStageSpellings)
    if (s.stage == stage) return s.name;
  return "?";
}

std::optional<Stage> stageFromName(std::string_view name) {
  for (const StageSpelling& s : kStageSpellings)
    if (name == s.name) return s.stage;
  return std::nullopt;
}

const std::vector<Stage>& allStages() {
  static const std::vector<Stage> stages = [] {
    std::vector<Stage> v;
    for (const StageSpelling& s : kStageSpellings) v.push_back(s.stage);
    return v;
  }();
  return stages;
}

// ---------------------------------------------------------------- output plan

bool OutputPlan::wants(Stage s) const {
  return std::find(stages.begin(), stages.end(), s) != stages.end();
}

std::string replaceExtension(const std::string& path, const std::string& extension) {
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  bool hasExtension = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  return (hasExtension ? path.substr(0, dot) : path) + extension;
}

static std::string baseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string symbolPrefixFor(const std::string& inputPath) {
  std::string stem = replaceExtension(baseName(inputPath), "");
  std::string prefix;
  for (char c : stem) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    prefix += ok ? c : '_';
  }
  // A C identifier may not start with a digit, and `_x` names are reserved at file scope.
  if (prefix.empty() || (prefix[0] >= '0' && prefix[0] <= '9') || prefix[0] == '_')
    prefix = "tl_" + prefix;
  return prefix;
}

std::optional<OutputPlan> planOutputs(const PipelineOptions& options, std::string& error) {
  OutputPlan plan;
  if (options.syntaxOnly) {
    // Checks only: the run stops after sema and writes nothing, whatever -o or -MD say
    // (as with Clang). An --emit would ask for a product: contradictory.
    if (!options.emit.empty()) {
      error = "-fsyntax-only checks the source and writes nothing: it takes no --emit";
      return std::nullopt;
    }
    plan.last = Stage::TileIR;
    return plan;
  }
  for (Stage s : allStages()) {
    bool asked = options.emit.empty()
                     ? (s == Stage::Cubin || s == Stage::Header)
                     : std::find(options.emit.begin(), options.emit.end(), s) != options.emit.end();
    if (asked) plan.stages.push_back(s);
  }
  if (plan.stages.empty()) {
    error = "nothing to emit";
    return std::nullopt;
  }
  // The metadata needs the loop IR only: alone, it stops the run after lowering.
  plan.last = Stage::Tokens;
  // The disassembly needs the cubin only.
  for (Stage s : plan.stages)
    plan.last = std::max(plan.last, s == Stage::Meta ? Stage::LoopIR : s == Stage::Sass ? Stage::Cubin : s);

  if (options.nvtx && !plan.wants(Stage::Header)) {
    error = "--nvtx puts NVTX ranges in the header's launchers, but --emit does not include 'header'";
    return std::nullopt;
  }
  if (!options.headerPath.empty() && !plan.wants(Stage::Header)) {
    error = "--header given, but --emit does not include 'header'";
    return std::nullopt;
  }
  // `-` is stdout for text only; where stdout is not possible, say so rather than
  // write a file named `-`.
  const bool inputIsStdin = options.inputPath == kStandardStreamPath;
  const bool outputIsStdout = options.outputPath == kStandardStreamPath;
  if (options.headerPath == kStandardStreamPath) {
    error = "--header - : the header goes to a file (--emit=header without --header prints it to stdout)";
    return std::nullopt;
  }
  if (options.depfilePath == kStandardStreamPath) {
    error = "-MF - : the dependency file goes to a file";
    return std::nullopt;
  }
  // PTX strings have no escape for a quote (ptxas stops at it) and no place for a
  // line break, so -lineinfo's `.file "NAME"` cannot name such a file.
  if (options.lineInfo && std::any_of(options.inputPath.begin(), options.inputPath.end(), [](char c) {
        return c == '"' || (unsigned char)c < 0x20 || c == 0x7f;
      })) {
    error = "-lineinfo: the input's name cannot be written in PTX's .file \"...\" (it holds a quote or a control "
            "character): rename the file, or compile without -lineinfo";
    return std::nullopt;
  }
  for (Stage s : plan.stages)
    if (s != Stage::Cubin && s != Stage::Header && s != Stage::Source && s != Stage::Meta) plan.textStages.push_back(s);

  if (plan.wants(Stage::Cubin)) {
    if (outputIsStdout) {
      error = options.emit.empty()
                  ? "-o - writes to stdout, but the default outputs are a cubin (binary) and a header: name a "
                    "file with -o, or ask for a text stage (--emit=ptx -o -)"
                  : "-o - writes to stdout, and the cubin is binary: name a file with -o";
      return std::nullopt;
    }
    if (options.outputPath.empty() && inputIsStdin) {
      error = "the source is read from stdin ('-'), so the cubin has no default name: name it with -o";
      return std::nullopt;
    }
    plan.cubinPath = !options.outputPath.empty()
                         ? options.outputPath
                         : replaceExtension(baseName(options.inputPath), ".cubin");
    // `-o /dev/null` (checking that a file compiles) makes no /dev/null.h: outputs
    // named after a device or pipe are made only where asked for by name.
    const bool cubinToSpecialFile = isSpecialFile(plan.cubinPath);
    if (plan.wants(Stage::Header))
      plan.headerPath = !options.headerPath.empty() ? options.headerPath
                        : cubinToSpecialFile        ? ""
                                                    : replaceExtension(plan.cubinPath, ".h");
  } else {
    if (plan.wants(Stage::Header)) {
      if (!options.headerPath.empty())
        plan.headerPath = options.headerPath;
      else
        plan.textStages.push_back(Stage::Header);
    }
    plan.textPath = outputIsStdout ? "" : options.outputPath;
    // Several stages in one file are a listing with a banner each; a header must be
    // a file of its own, which a C compiler can include.
    const bool headerInText =
        std::find(plan.textStages.begin(), plan.textStages.end(), Stage::Header) != plan.textStages.end();
    if (!plan.textPath.empty() && headerInText && plan.textStages.size() > 1) {
      std::string others;
      for (Stage s : plan.textStages)
        if (s != Stage::Header) others += std::string(others.empty() ? "" : ", ") + stageName(s);
      error = "-o '" + plan.textPath + "' would hold the header and " + others +
              " in one file: a header is a file of its own (name it with --header PATH)";
      return std::nullopt;
    }
  }

  // The metadata goes beside the cubin it describes (tlc.load finds it there), or
  // with the text stages when there is no cubin.
  if (plan.wants(Stage::Meta)) {
    if (!plan.cubinPath.empty() && !isSpecialFile(plan.cubinPath))
      plan.metaPath = replaceExtension(plan.cubinPath, ".meta.json");
    else if (plan.cubinPath.empty())
      plan.textStages.push_back(Stage::Meta);
  }

  // A .h + .c pair: the source file goes beside the header.
  if (plan.wants(Stage::Source)) {
    if (!plan.wants(Stage::Header) || plan.headerPath.empty()) {
      error = "--emit=source makes a .h + .c pair: emit 'header' too, to a file (--header, or with the cubin)";
      return std::nullopt;
    }
    // The .c includes the header by file name: `#include "NAME"` cannot spell a quote,
    // a backslash or a control character.
    const std::string includeName = baseName(plan.headerPath);
    if (std::any_of(includeName.begin(), includeName.end(),
                    [](char c) { return c == '"' || c == '\\' || (unsigned char)c < 0x20 || c == 0x7f; })) {
      error = "--emit=source: the header's file name cannot be written in the .c's #include \"...\" (it holds a "
              "quote, backslash or control character): choose another with --header";
      return std::nullopt;
    }
    if (isSpecialFile(plan.headerPath)) {
      error = "--emit=source writes the .c beside the header, and '" + plan.headerPath + "' is a device or pipe";
      return std::nullopt;
    }
    plan.sourcePath = replaceExtension(plan.headerPath, ".c");
  }

  // Several architectures: a cubin each (the first at -o, the others beside it as
  // STEM.ARCH.cubin) and one header that embeds them all; no text stages.
  if (!options.moreArchs.empty()) {
    if (!plan.textStages.empty()) {
      error = "several --arch values build cubins, a header and metadata only (--emit=cubin,header,meta)";
      return std::nullopt;
    }
    for (const std::string& arch : options.moreArchs)
      if (!plan.cubinPath.empty() && !isSpecialFile(plan.cubinPath))
        plan.moreCubinPaths.push_back(replaceExtension(plan.cubinPath, "." + arch + ".cubin"));
  }

  // The dependency file describes the first file written: the cubin, else the
  // header, else the text file.
  if (options.depfile) {
    const std::string& primary = !plan.cubinPath.empty()    ? plan.cubinPath
                                 : !plan.headerPath.empty() ? plan.headerPath
                                                            : plan.textPath;
    if (primary.empty() && (options.depfilePath.empty() || options.depTargets.empty())) {
      error = "-MD needs an output file to name as the target (give -o, or -MF and -MT)";
      return std::nullopt;
    }
    if (options.depfilePath.empty() && isSpecialFile(primary)) {
      error = "-MD would write the dependency file beside '" + primary + "', which is a device or pipe (name it with -MF)";
      return std::nullopt;
    }
    plan.depfilePath = !options.depfilePath.empty() ? options.depfilePath : replaceExtension(primary, ".d");
    plan.depTargets = !options.depTargets.empty() ? options.depTargets : std::vector<std::string>{quoteForMake(primary)};
  }

  // A header named like one it includes (cuda.tl -> cuda.h) would include itself
  // wherever its folder is on the include path, in place of the real one.
  if (!plan.headerPath.empty()) {
    std::string name = baseName(plan.headerPath);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // case-insensitive file systems
    for (const char* included : {"cuda.h", "stdarg.h", "stddef.h", "stdint.h", "stdio.h", "string.h"})
      if (name == included) {
        error = "the header '" + plan.headerPath + "' would hide <" + included +
                ">, which it includes: name it otherwise (--header, or -o)";
        return std::nullopt;
      }
  }

  // Refuse to overwrite the source, or to write two products into one file.
  std::vector<std::string> paths;
  for (const std::string* p :
       {&plan.cubinPath, &plan.headerPath, &plan.textPath, &plan.depfilePath, &plan.sourcePath, &plan.metaPath})
    if (!p->empty()) paths.push_back(*p);
  for (const std::string& p : plan.moreCubinPaths) paths.push_back(p);
  for (size_t i = 0; i < paths.size(); ++i) {
    // Also through another spelling or a link: the input would be replaced.
    if (!inputIsStdin && (paths[i] == options.inputPath || sameFile(paths[i], options.inputPath))) {
      error = "output '" + paths[i] + "' would overwrite the input";
      return std::nullopt;
    }
    for (size_t j = i + 1; j < paths.size(); ++j)
      if (paths[i] == paths[j] || (sameFile(paths[i], paths[j]) && !isSpecialFile(paths[i]))) {
        error = "two outputs would go to '" + paths[i] + "' (use --header to choose the header's path)";
        return std::nullopt;
      }
  }
  return plan;
}

// ---------------------------------------------------------------- dependency file

std::string quoteForMake(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '#') out += '\\';
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

std::string makeDepfile(const std::vector<std::string>& targets, const std::vector<std::string>& deps,
                        bool phony, const std::string& input) {
  std::string text;
  for (size_t i = 0; i < targets.size(); ++i) text += (i ? " " : "") + targets[i];
  text += ":";
  for (const std::string& dep : deps) text += " " + quoteForMake(dep);
  text += "\n";
  if (phony)
    for (const std::string& dep : deps)
      if (dep != input) text += "\n" + quoteForMake(dep) + ":\n";
  return text;
}

// ---------------------------------------------------------------- run helpers

namespace {

// Prints one line per phase with its wall time when verbose (`tlc: parse 0.42 ms`).
class PhaseClock {
 public:
  using Clock = std::chrono::steady_clock;
  PhaseClock(bool verbose, std::ostream& err) : verbose_(verbose), err_(err), runBegan_(Clock::now()) {}
  void start(const char* phase) {
    phase_ = phase;
    began_ = Clock::now();
  }
  void stop() { print(phase_, began_); }
  // A phase timed elsewhere: the kernels' phases, summed over the kernels (on -j
  // threads, so their sum may exceed the wall time).
  void add(const char* phase, double ms) {
    if (!verbose_) return;
    char line[96];
    std::snprintf(line, sizeof line, "tlc: %-8s %9.2f ms\n", phase, ms);
    err_ << line << std::flush;
  }
  void total() { print("total", runBegan_); }

 private:
  void print(const char* what, Clock::time_point since) {
    if (!verbose_) return;
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - since).count();
    char line[96];
    std::snprintf(line, sizeof line, "tlc: %-8s %9.2f ms\n", what, ms);
    err_ << line << std::flush;
  }

  bool verbose_;
  std::ostream& err_;
  const char* phase_ = "";
  Clock::time_point runBegan_;
  Clock::time_point began_;
};

// Collects the text stages (printed as they are made when they go to stdout, so
// they come before a later phase's errors) and the files (written at the end).
class Products {
 public:
  Products(const OutputPlan& plan, std::ostream& out) : plan_(plan), out_(out) {}

  void text(Stage stage, const std::string& text) {
    if (std::find(plan_.textStages.begin(), plan_.textStages.end(), stage) == plan_.textStages.end())
      return;
    std::string block;
    // Several stages in one stream get a banner each so a reader can tell them apart.
    if (plan_.textStages.size() > 1) block += std::string("// ===== ") + stageName(stage) + " =====\n";
    block += text;
    if (!text.empty() && text.back() != '\n') block += '\n';
    if (plan_.textPath.empty())
      out_ << block << std::flush;
    else
      textFile_ += block;
  }

  void file(const std::string& path, std::string data) { files_.push_back({path, std::move(data)}); }

  struct Written {
    std::string path;
    size_t bytes = 0;
    bool unchanged = false;  // --write-if-changed found the same bytes there
  };

  // Writes every file or none; returns false with `error` set. With `ifChanged`, a
  // file that already holds exactly these bytes is not touched.
  bool writeFiles(bool ifChanged, std::string& error, std::vector<Written>& written) {
    if (!plan_.textPath.empty()) files_.insert(files_.begin(), {plan_.textPath, textFile_});
    OutputTransaction transaction;
    std::vector<bool> unchanged;
    for (const auto& [path, data] : files_) {
      unchanged.push_back(ifChanged && fileHoldsExactly(path, data));
      if (!unchanged.back() && !transaction.stage(path, data, error)) return false;
    }
    if (!transaction.commit(error)) return false;
    for (size_t i = 0; i < files_.size(); ++i) written.push_back({files_[i].first, files_[i].second.size(), unchanged[i]});
    return true;
  }

 private:
  const OutputPlan& plan_;
  std::ostream& out_;
  std::string textFile_;
  std::vector<std::pair<std::string, std::string>> files_;
};

std::string humanSize(size_t bytes) {
  char text[32];
  if (bytes < 1024)
    std::snprintf(text, sizeof text, "%zu bytes", bytes);
  else if (bytes < 10 * 1024)
    std::snprintf(text, sizeof text, "%.1f KB", bytes / 1024.0);
  else
    std::snprintf(text, sizeof text, "%.0f KB", bytes / 1024.0);
  return text;
}

// Errors from LLVM, ptxas or nvlink that point at no source line are failures of
// the toolchain or the environment (exit 3); an error with a location is the
// program's fault (exit 1), whichever phase found it.
int backendFailureCode(const DiagnosticEngine& diags, size_t firstOfPhase) {
  const std::vector<Diagnostic>& all = diags.all();
  for (size_t i = firstOfPhase; i < all.size(); ++i)
    if (all[i].severity == Severity::Error && !all[i].range.valid()) return kExitEnvironment;
  return kExitSourceErrors;
}

template <class Product>
bool failed(const Product& product, const DiagnosticEngine& diags, const char* phase) {
  if (diags.hasErrors()) return true;
  if (!product) {
    // A phase must say why it produced nothing; silence here is a compiler bug.
    internalAssertFailed("product", std::string(phase) + " failed without reporting an error",
                         __FILE__, __LINE__);
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------- kernels, one at a time

namespace {
TargetOptions targetOptionsFor(const PipelineOptions& options, const Target& target, const std::string& sourceName) {
  TargetOptions backend;
  backend.arch = target.arch();
  backend.optLevel = options.optLevel;
  backend.lineInfo = options.lineInfo;
  backend.sourceName = sourceName;
  return backend;
}

SemaOptions semaOptionsFor(const PipelineOptions& options, const Target& target) {
  SemaOptions sema;
  sema.defines = options.defines;
  sema.target = target;
  return sema;
}

double millisecondsSince(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
}

// The PTX handed to one ptxas process (see buildFile): large enough that ptxas's
// fixed cost per input is small against its work, small enough that its memory is.
constexpr size_t kAssemblyBatchBytes = size_t(256) << 10;

// What every kernel's build reads (shared by the threads, never written).
struct KernelBuildSetup {
  const PipelineOptions* options = nullptr;
  const SourceFile* source = nullptr;
  std::ostream* err = nullptr;  // where an internal error on a worker thread is printed
  Target target = Target::hopper();
  TargetOptions backend;
  bool loweringRemarks = false;  // the first architecture's build explains its copies
  Stage last = Stage::Header;    // the last stage the run needs
  bool printLoops = false, printLLVM = false, printPTX = false;
};

// Kernels are built in groups of consecutive kernels of at most this many statements
// after expansion (sema's count, ir::Kernel::expandedStatements), a kernel past it
// alone: a module of its own costs LLVM and ptxas a fixed millisecond or two, which
// a file of small kernels would pay a thousand times over, while the statements
// bound what a group's build holds. The groups depend on the source alone, not on -j.
constexpr int64_t kStatementsPerGroup = 1024;

// [begin, end) of each group of `tileIR`'s kernels; one empty group for a file
// without kernels (its build is the empty module's).
std::vector<std::pair<size_t, size_t>> kernelGroups(const ir::Module& tileIR) {
  std::vector<std::pair<size_t, size_t>> groups;
  size_t begin = 0;
  int64_t statements = 0;
  for (size_t i = 0; i < tileIR.kernels.size(); ++i) {
    const int64_t count = std::max<int64_t>(1, tileIR.kernels[i].expandedStatements);
    if (i > begin && statements + count > kStatementsPerGroup) {
      groups.push_back({begin, i});
      begin = i;
      statements = 0;
    }
    statements += count;
  }
  if (begin < tileIR.kernels.size() || groups.empty()) groups.push_back({begin, tileIR.kernels.size()});
  return groups;
}

// One group of the file's kernels, lowered, generated into an LLVM module of its own
// (its own LLVMContext: threads share no LLVM state) and printed as PTX, on a worker
// thread. The LLVM module is freed before the function returns; what is kept is the
// PTX for the assembler, the texts asked for, and the loop IR without its statements
// (the header needs the variants' names, parameters and launch rules, not their code).
struct KernelBuild {
  std::vector<Diagnostic> lowering;  // replayed for every kernel, in source order
  std::vector<Diagnostic> backend;   // replayed while the file has no error
  bool loweringFailed = false;
  bool backendFailed = false;
  std::vector<ir::Kernel> variants;
  std::string loopText, llvmText;
  std::optional<std::string> ptx;
  double lowerMs = 0, llvmMs = 0, ptxMs = 0;
};

// Kernels [begin, end) of `file`. `fileFailed`: an earlier group failed, so this
// one's code is not needed (only its lowering diagnostics are reported); a hint to
// save the time, never read for output.
KernelBuild buildKernels(const ir::Module& file, std::pair<size_t, size_t> group, const KernelBuildSetup& setup,
                         const std::atomic<bool>& fileFailed) {
  KernelBuild build;
  DiagnosticEngine diags(*setup.err);
  diags.setFile(setup.source);
  diags.setWarningOptions(setup.options->warnings);
  diags.setShowRemarks(setup.options->remarks);
  diags.setRecordOnly(true);
  ir::Module tileIR;
  tileIR.kernels.assign(file.kernels.begin() + group.first, file.kernels.begin() + group.second);

  // Lowering: the loop IR, checked before the backend relies on it.
  auto began = std::chrono::steady_clock::now();
  std::unique_ptr<ir::Module> loopIR = lower(tileIR, LowerOptions{setup.target, setup.loweringRemarks}, diags);
  if (loopIR)
    for (const ir::Kernel& kernel : loopIR->kernels) ir::verifyLoopIR(kernel, diags);
  build.lowerMs = millisecondsSince(began);
  build.lowering = diags.all();
  if (failed(loopIR, diags, "lower")) {
    build.loweringFailed = true;
    return build;
  }
  if (setup.printLoops) {
    std::ostringstream printed;
    ir::print(*loopIR, printed);
    build.loopText = printed.str();
  }

  // LLVM IR for NVPTX, then PTX.
  const size_t firstBackend = diags.all().size();
  if (setup.last > Stage::LoopIR && !fileFailed.load(std::memory_order_relaxed)) {
    began = std::chrono::steady_clock::now();
    std::unique_ptr<LLVMModule> llvmModule = generateLLVM(*loopIR, setup.backend, diags);
    build.llvmMs = millisecondsSince(began);
    build.backendFailed = failed(llvmModule, diags, "llvm");
    if (!build.backendFailed && setup.printLLVM) build.llvmText = llvmModule->text();
    if (!build.backendFailed && setup.last > Stage::LLVM) {
      began = std::chrono::steady_clock::now();
      build.ptx = emitPTX(*llvmModule, setup.backend, diags);
      build.ptxMs = millisecondsSince(began);
      build.backendFailed = failed(build.ptx, diags, "ptx");
    }
  }
  build.backend.assign(diags.all().begin() + firstBackend, diags.all().end());
  for (ir::Kernel& variant : loopIR->kernels) variant.body = nullptr;
  build.variants = std::move(loopIR->kernels);
  return build;
}

// The products of one architecture's build of the file's kernels.
struct ArchProducts {
  ir::Module loopIR;  // every variant, in source order, without statements
  std::optional<std::vector<uint8_t>> cubin;
  std::string loopText, llvmText, ptxText;  // the text stages asked for
  double lowerMs = 0, llvmMs = 0, ptxMs = 0, cubinMs = 0;  // summed over the kernels
};

// --time-report: one line per group of kernels, in source order.
std::string groupTimeLine(const ir::Module& tileIR, std::pair<size_t, size_t> group, const KernelBuild& build) {
  const size_t count = group.second - group.first;
  std::string who = count == 0   ? std::string("(no kernels)")
                    : count == 1 ? "kernel " + tileIR.kernels[group.first].name
                                 : "kernels " + tileIR.kernels[group.first].name + " .. " +
                                       tileIR.kernels[group.second - 1].name + " (" + std::to_string(count) + ")";
  char times[128];
  std::snprintf(times, sizeof times, ": lower %.2f ms, llvm %.2f ms, ptx %.2f ms\n", build.lowerMs, build.llvmMs,
                build.ptxMs);
  return "tlc: time: " + who + times;
}

// Builds the kernels of `tileIR`, group by group on `jobs` threads, and assembles
// their PTX into one cubin on this thread, in source order, as each group is ready;
// at most 2 x jobs groups are built and not yet assembled. Every diagnostic reaches
// `diags` in source order, kernel by kernel, and the products are the same bytes
// for every `jobs`. Returns an ExitCode.
int buildFile(const ir::Module& tileIR, const KernelBuildSetup& setup, unsigned jobs, DiagnosticEngine& diags,
                 ArchProducts& products) {
  CubinAssembler assembler(setup.backend, jobs);
  // Consecutive kernels' PTX goes to ptxas in batches of about kAssemblyBatchBytes,
  // one PTX module each: every input costs ptxas a fixed few ms, which would double
  // the time of a file of small kernels. The batches depend on the PTX alone, not on
  // -j or timing.
  std::string batch, batchName;
  auto assembleBatch = [&] {
    auto began = std::chrono::steady_clock::now();
    bool added = assembler.add(batch, batchName, diags);
    products.cubinMs += millisecondsSince(began);
    batch.clear();
    batch.shrink_to_fit();
    return added;
  };
  std::atomic<bool> fileFailed{false};
  int exitCode = kExitSuccess;
  const std::vector<std::pair<size_t, size_t>> groups = kernelGroups(tileIR);
  orderedParallel<KernelBuild>(
      groups.size(), jobs, 2 * size_t(jobs),
      [&](size_t i) { return buildKernels(tileIR, groups[i], setup, fileFailed); },
      [&](size_t i, KernelBuild&& build) {
        for (const Diagnostic& d : build.lowering) diags.replay(d);
        products.lowerMs += build.lowerMs;
        products.llvmMs += build.llvmMs;
        products.ptxMs += build.ptxMs;
        if (setup.options->timeReport) *setup.err << groupTimeLine(tileIR, groups[i], build);
        if (build.loweringFailed) {
          exitCode = kExitSourceErrors;
          fileFailed = true;
        }
        if (fileFailed) return;
        const size_t firstBackend = diags.all().size();
        for (const Diagnostic& d : build.backend) diags.replay(d);
        if (build.backendFailed) {
          exitCode = backendFailureCode(diags, firstBackend);
          fileFailed = true;
          return;
        }
        const char* separator = i ? "\n" : "";
        if (setup.printLoops) products.loopText += separator + build.loopText;
        if (setup.printLLVM) products.llvmText += separator + build.llvmText;
        if (setup.printPTX) appendPTXModule(products.ptxText, *build.ptx);
        for (ir::Kernel& variant : build.variants) products.loopIR.kernels.push_back(std::move(variant));
        if (setup.last > Stage::PTX) {
          if (batch.empty())
            batchName = (tileIR.kernels.empty() ? "tlc" : tileIR.kernels[groups[i].first].name) + ".ptx";
          appendPTXModule(batch, *build.ptx);
          if (batch.size() >= kAssemblyBatchBytes && !assembleBatch()) {
            exitCode = backendFailureCode(diags, firstBackend);
            fileFailed = true;
          }
        }
      });
  if (exitCode == kExitSuccess && !batch.empty()) {
    const size_t firstDiag = diags.all().size();
    if (!assembleBatch()) exitCode = backendFailureCode(diags, firstDiag);
  }
  if (exitCode != kExitSuccess) return exitCode;
  if (setup.last > Stage::PTX) {
    const size_t firstDiag = diags.all().size();
    auto began = std::chrono::steady_clock::now();
    std::vector<std::string> entries;
    for (const ir::Kernel& variant : products.loopIR.kernels) entries.push_back(variant.name);
    products.cubin = assembler.finish(diags, entries);
    products.cubinMs += millisecondsSince(began);
    if (failed(products.cubin, diags, "cubin")) return backendFailureCode(diags, firstDiag);
  }
  return kExitSuccess;
}
}  // namespace

// ---------------------------------------------------------------- the pipeline

int runPipeline(const PipelineOptions& options, std::ostream& out, std::ostream& err) {
  std::string error;
  std::optional<OutputPlan> plan = planOutputs(options, error);
  if (!plan) {
    err << "tlc: error: " << error << "\n";
    return kExitUsage;
  }

  DiagnosticEngine diags(err);
  diags.setColor(options.color);
  diags.setErrorLimit(options.errorLimit);
  diags.setWarningOptions(options.warnings);
  diags.setShowRemarks(options.remarks);
  PhaseClock clock(options.verbose || options.timeReport, err);
  Products products(*plan, out);
  // The target, made once from --arch (main checked the spelling against
  // Targets.def) and handed to every phase.
  const std::optional<Target> firstTarget = Target::fromArch(options.arch);
  if (!firstTarget) {
    err << "tlc: error: unsupported --arch '" << options.arch << "'\n";
    return kExitUsage;
  }
  const Target& theTarget = *firstTarget;
  const bool inputIsStdin = options.inputPath == kStandardStreamPath;
  // The source's name in diagnostics and in -lineinfo's `.file`: the path as given.
  const std::string sourceName = inputIsStdin ? kStandardInputName : options.inputPath;
  const TargetOptions target = targetOptionsFor(options, theTarget, sourceName);

  // 1. Read the file (or stdin, under the same limit).
  clock.start("read");
  std::optional<std::string> text = inputIsStdin ? readStandardInput(error, kMaxSourceBytes)
                                                 : readFile(options.inputPath, error, kMaxSourceBytes);
  clock.stop();
  if (!text) {
    diags.fatal("cannot " + std::string(inputIsStdin ? "read " : "open '") + sourceName +
                (inputIsStdin ? "" : "'") + ": " + error);
    return kExitEnvironment;
  }
  SourceFile source(sourceName, std::move(*text));
  diags.setFile(&source);

  // 2. Tokens (a view of the lexer only; parsing lexes again).
  if (plan->wants(Stage::Tokens)) {
    clock.start("tokens");
    std::ostringstream tokens;
    bool lexed = dumpTokens(source, diags, tokens);
    clock.stop();
    products.text(Stage::Tokens, tokens.str());
    if (!lexed || diags.hasErrors()) return kExitSourceErrors;
  }

  // 3. Parse: the AST.
  std::unique_ptr<ast::File> syntax;
  if (plan->last > Stage::Tokens) {
    clock.start("parse");
    syntax = parseFile(source, diags);
    clock.stop();
    if (failed(syntax, diags, "parse")) return kExitSourceErrors;
    if (plan->wants(Stage::Ast)) {
      std::ostringstream printed;
      ast::print(*syntax, printed);
      products.text(Stage::Ast, printed.str());
    }
  }

  // 4. Semantic analysis: the tile IR.
  std::unique_ptr<ir::Module> tileIR;
  if (plan->last > Stage::Ast) {
    clock.start("sema");
    tileIR = analyze(*syntax, semaOptionsFor(options, theTarget), diags);
    clock.stop();
    if (failed(tileIR, diags, "sema")) return kExitSourceErrors;
    if (plan->wants(Stage::TileIR)) {
      std::ostringstream printed;
      ir::print(*tileIR, printed);
      products.text(Stage::TileIR, printed.str());
    }
  }

  // 5-8. Each kernel on its own, on up to -j threads: lowering (the loop IR, checked
  // before the backend relies on it), LLVM IR for NVPTX, PTX; then, on this thread
  // and in source order, its PTX assembled into the file's cubin (ptxas processes,
  // up to -j at once, then nvlink). Memory holds the kernels in flight, not the file.
  const unsigned jobs = options.jobs ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  KernelBuildSetup setup;
  setup.options = &options;
  setup.source = &source;
  setup.err = &err;
  setup.last = plan->last;
  auto printed = [&](Stage s) {
    return std::find(plan->textStages.begin(), plan->textStages.end(), s) != plan->textStages.end();
  };
  setup.printLoops = printed(Stage::LoopIR);
  setup.printLLVM = printed(Stage::LLVM);
  setup.printPTX = printed(Stage::PTX);
  std::vector<ArchProducts> archs;
  archs.reserve(1 + options.moreArchs.size());  // builds below point into it
  if (plan->last > Stage::TileIR) {
    setup.target = theTarget;
    setup.backend = target;
    setup.loweringRemarks = options.remarks;
    archs.emplace_back();
    int exitCode = buildFile(*tileIR, setup, jobs, diags, archs.back());
    clock.add("lower", archs.back().lowerMs);
    if (plan->last > Stage::LoopIR) clock.add("llvm", archs.back().llvmMs);
    if (plan->last > Stage::LLVM) clock.add("ptx", archs.back().ptxMs);
    if (plan->last > Stage::PTX) clock.add("cubin", archs.back().cubinMs);
    if (exitCode != kExitSuccess) return exitCode;
    products.text(Stage::LoopIR, archs.back().loopText);
    products.text(Stage::LLVM, archs.back().llvmText);
    products.text(Stage::PTX, archs.back().ptxText);
    // --emit=sass: the toolkit's disassembler on the cubin (exit 3 when it is missing).
    if (plan->wants(Stage::Sass) && archs.back().cubin) {
      clock.start("sass");
      std::optional<std::string> sass = disassembleCubin(*archs.back().cubin, error);
      clock.stop();
      if (!sass) {
        diags.fatal(error);
        return kExitEnvironment;
      }
      products.text(Stage::Sass, *sass);
    }
    if (archs.back().cubin && !plan->cubinPath.empty())
      products.file(plan->cubinPath, std::string(archs.back().cubin->begin(), archs.back().cubin->end()));
  }

  // 8b. The other architectures (the first one found the source sound): each its own
  // sema (a construct a target lacks is an error at its line, naming the target),
  // lowering (the variants its target allows) and cubin. No text stages, no lowering
  // remarks.
  std::vector<ArchBuild> builds;
  if (!archs.empty() && archs.back().cubin) builds.push_back({theTarget.arch(), &archs.back().loopIR, *archs.back().cubin});
  for (size_t i = 0; i < options.moreArchs.size(); ++i) {
    const std::optional<Target> moreTarget = Target::fromArch(options.moreArchs[i]);
    if (!moreTarget) {
      err << "tlc: error: unsupported --arch '" << options.moreArchs[i] << "'\n";
      return kExitUsage;
    }
    clock.start("cubin");
    std::unique_ptr<ir::Module> moreTileIR = analyze(*syntax, semaOptionsFor(options, *moreTarget), diags);
    if (!moreTileIR || diags.hasErrors()) return kExitSourceErrors;
    setup.target = *moreTarget;
    setup.backend = targetOptionsFor(options, *moreTarget, sourceName);
    setup.loweringRemarks = false;
    setup.printLoops = setup.printLLVM = setup.printPTX = false;
    archs.emplace_back();
    int exitCode = buildFile(*moreTileIR, setup, jobs, diags, archs.back());
    clock.stop();
    if (exitCode != kExitSuccess) return exitCode;
    if (!plan->moreCubinPaths.empty())
      products.file(plan->moreCubinPaths[i], std::string(archs.back().cubin->begin(), archs.back().cubin->end()));
    builds.push_back({moreTarget->arch(), &archs.back().loopIR, *archs.back().cubin});
  }

  // 9. The C launcher header.
  if (plan->wants(Stage::Header)) {
    clock.start("header");
    // The header names the source by its file name only, so that it is the same
    // bytes whichever directory or path spelling the build used.
    HeaderOptions headerOptions;
    // From stdin, the module's symbols are named after the output (`tlc - -o k.cubin`
    // names them as `tlc k.tl` would).
    const std::string& namedOutput = !plan->cubinPath.empty() ? plan->cubinPath : plan->headerPath;
    const std::string prefixSource = !inputIsStdin ? options.inputPath : !namedOutput.empty() ? namedOutput : "stdin";
    headerOptions.prefix = options.prefix.empty() ? symbolPrefixFor(prefixSource) : options.prefix;
    headerOptions.kernelPrefix = options.prefix.empty() ? "" : options.prefix + "_";
    headerOptions.sourceName = inputIsStdin ? sourceName : baseName(options.inputPath);
    headerOptions.arch = options.arch;
    headerOptions.nvtx = options.nvtx;
    if (plan->wants(Stage::Source)) headerOptions.mode = HeaderOptions::Mode::PairHeader;
    std::string header = generateMultiArchHeader(builds, headerOptions);
    if (plan->wants(Stage::Source)) {
      headerOptions.mode = HeaderOptions::Mode::PairSource;
      headerOptions.headerInclude = baseName(plan->headerPath);
      products.file(plan->sourcePath, generateMultiArchHeader(builds, headerOptions));
    }
    clock.stop();
    if (plan->headerPath.empty())
      products.text(Stage::Header, header);
    else
      products.file(plan->headerPath, std::move(header));
  }

  // 9b. The launch metadata (JSON): every architecture's variants and launch rules,
  // the cubins named relative to the metadata's folder.
  if (plan->wants(Stage::Meta)) {
    std::vector<ArchBuild> described;
    MetaOptions metaOptions;
    metaOptions.sourceName = inputIsStdin ? sourceName : baseName(options.inputPath);
    for (size_t i = 0; i < archs.size(); ++i) {
      const std::string& arch = i == 0 ? options.arch : options.moreArchs[i - 1];
      described.push_back({Target::fromArch(arch)->arch(), &archs[i].loopIR, {}});
      const std::string cubinPath = i == 0 ? plan->cubinPath : i - 1 < plan->moreCubinPaths.size() ? plan->moreCubinPaths[i - 1] : "";
      metaOptions.cubinFiles.push_back(plan->metaPath.empty() || cubinPath.empty() ? "" : baseName(cubinPath));
    }
    std::string meta = generateMeta(described, metaOptions);
    if (plan->metaPath.empty())
      products.text(Stage::Meta, meta);
    else
      products.file(plan->metaPath, std::move(meta));
  }

  // 10. The dependency file: the one file the compile read (there is no include
  // mechanism yet; anything read later belongs in this list). Stdin is no file a
  // build tool could watch: the rule then has no prerequisites.
  if (!plan->depfilePath.empty())
    products.file(plan->depfilePath,
                  makeDepfile(plan->depTargets, inputIsStdin ? std::vector<std::string>{} : std::vector<std::string>{options.inputPath},
                              options.depPhony, options.inputPath));

  // 11. Write every file, or none.
  clock.start("write");
  std::vector<Products::Written> written;
  bool wrote = products.writeFiles(options.writeIfChanged, error, written);
  clock.stop();
  if (!wrote) {
    diags.fatal(error);
    return kExitEnvironment;
  }
  clock.total();
  out.flush();
  if (!out) {  // e.g. stdout is a full disk: the text did not all arrive
    diags.fatal("cannot write the output to stdout");
    return kExitEnvironment;
  }
  if (options.verbose && !written.empty()) {
    std::string line = "tlc: wrote ";
    for (size_t i = 0; i < written.size(); ++i)
      line += (i ? ", " : "") + written[i].path + " (" +
              (written[i].unchanged ? std::string("unchanged") : humanSize(written[i].bytes)) + ")";
    err << line << "\n";
  }
  return kExitSuccess;
}

}  // namespace tlc
