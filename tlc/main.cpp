// tlc: the command line. Turns argv into PipelineOptions (CLI11 does the parsing;
// the help text is written by hand so it reads well) and runs the pipeline.
// CLI11 reports bad usage by throwing; that stays inside main.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "Pipeline.h"
#include "backend/Backend.h"
#include "ir/Target.h"
#include "support/FileIO.h"

#ifndef TLC_VERSION
#define TLC_VERSION "unknown"
#endif
#ifndef TLC_LLVM_VERSION
#define TLC_LLVM_VERSION "unknown"
#endif
#ifndef TLC_CUDA_VERSION
#define TLC_CUDA_VERSION "unknown"
#endif

namespace {

constexpr const char* kHelp = R"(tlc: compile a tile-language (.tl) file into a cubin and a C launcher header
for NVIDIA Hopper GPUs.

Usage: tlc FILE.tl [-o FILE.cubin] [options]
       tlc - -o FILE.cubin [options]     (the source from stdin)
       tlc @FILE ...                     (arguments from a response file)

Prints nothing when it succeeds (-v: what it did).

Output:
  -o PATH              where the cubin goes (default: FILE.cubin in the current
                       directory); when only text stages are emitted, where the
                       text goes (default: stdout; -o - is stdout too)
  --header PATH        where the header goes (default: the cubin's path, .h)
  --emit=LIST          what to produce, comma-separated (default: cubin,header):
                         tokens  the lexer's tokens
                         ast     the syntax tree
                         ir      the tile IR, after semantic analysis
                         loops   the loop IR, after lowering
                         llvm    the LLVM IR for NVPTX
                         ptx     the PTX assembly
                         cubin   the cubin (binary, written to a file)
                         header  the C launcher header
                         source  with header: a .h + .c pair instead (the
                                 .c, beside the header, holds the cubin
                                 and the definitions)
                         meta    the launch metadata (JSON) that the Python
                                 package reads (docs/python.md): with the
                                 cubin, STEM.meta.json beside it; alone, it
                                 is printed and no cubin is made
                         sass    the cubin's machine code and each kernel's
                                 registers, stack, shared and local memory
                                 (runs cuobjdump, or nvdisasm, from the
                                 CUDA toolkit: $CUDA_HOME/bin, /usr/local/
                                 cuda/bin or the PATH)
                       several text stages print in pipeline order (a header
                       to -o goes alone: it is a file of its own)
  --prefix NAME        name the header's C symbols NAME_load, NAME_last_error,
                       NAME_<kernel>_launch, ... (default: the input's stem for
                       the module's symbols, none for the kernels' functions)
  --write-if-changed   leave an output file untouched (bytes and mtime) when
                       its new contents would be the same
  -fsyntax-only        check the source (parse and semantic analysis), print
                       the diagnostics and write nothing (for editors)

Dependency file (Make syntax, for make, Ninja and CMake's DEPFILE):
  -MD                  also write a dependency file: the first output file
                       (the cubin) depends on the .tl file; it goes beside the
                       cubin with the extension .d (build/k.cubin -> build/k.d)
  -MF PATH             where the dependency file goes (implies -MD)
  -MT TARGET           the rule's target instead of the output path
                       (repeatable; implies -MD)
  -MQ TARGET           like -MT, with the target quoted for Make ($ as $$, a
                       space as \ ); -MT writes it as given
  -MMD                 the same as -MD (tlc has no system headers to leave out)
  -MP                  add a phony rule for every dependency but the input

Code generation:
  --arch=ARCH          target GPU (default: sm_90a; sm_XX up to sm_90a, and
                       sm_100a through retargeted sm_90 PTX); several
                       (--arch=sm_90a,sm_100a or the option repeated) build a
                       cubin each (the first at -o, the others at
                       STEM.ARCH.cubin) and one header that loads the one for
                       the device's compute capability
  -O0 -O1 -O2 -O3      optimization level (default: -O3)
  -lineinfo            map the code to .tl lines (PTX .file/.loc, the cubin's
                       line table) for Nsight Compute and compute-sanitizer
  --nvtx               make each <kernel>_launch of the header an NVTX range
                       named after the kernel, for Nsight Systems (the header
                       then includes <nvtx3/nvToolsExt.h>, header-only, from
                       the CUDA toolkit: nothing more to link)
  -D NAME=VALUE        override `const NAME` with an integer or a dtype;
                       repeatable, one name once; -DNAME=VALUE works too
  -j N                 build the file's kernels on N threads (default: one per
                       core; -j 1: one at a time); the outputs are the same
                       bytes for every N

Diagnostics:
  --remarks            explain how each copy was lowered (TMA, cp.async, SIMT)
  -ferror-limit=N      stop after N errors (default: 20; 0: no limit)
  -W<name>, -Wno-<name>
                       turn the warning <name> on or off (all are on by default;
                       all, extra and everything name every warning):
@WARNINGS@  -Werror              treat warnings as errors (-Wno-error: do not)
  -Werror=<name>       make the warning <name> an error; -Wno-error=<name> keeps
                       it a warning even under -Werror
  -w                   suppress every warning (wins over the flags above)
  -fdiagnostics-color=auto|always|never
                       color the diagnostics (default: auto, when stderr is a
                       terminal and NO_COLOR is unset); -fcolor-diagnostics and
                       -fno-color-diagnostics are always and never
  -v, --verbose        print each phase with its time and the files written
                       (without it a successful compile prints nothing)
  --time-report        print each phase with its time, and each group of
                       kernels with its lowering, LLVM and PTX times

Other:
  @FILE                read more arguments from FILE (whitespace separated,
                       quotes and backslashes as in GCC; FILE may hold @FILEs)
  -h, --help           print this help
  --version            print the versions of tlc, LLVM and CUDA, and the ptxas
                       a cubin would be assembled with now

Exit status: 0 success, 1 errors in the source, 2 bad usage,
             3 I/O or toolchain failure.

Examples:
  tlc examples/tile_copy.tl -o build/tile_copy.cubin
      writes build/tile_copy.cubin and build/tile_copy.h
  tlc kernel.tl --emit=ptx -D BM=64 -o kernel.ptx
  generate_kernel | tlc - --emit=ptx -o -
)";

// The help text, with the list of warnings taken from support/Warnings.def.
void printHelp() {
  std::string help = kHelp;
  std::string list;
  for (size_t i = 0; i < tlc::kWarningCount; ++i) {
    std::string name = tlc::warningName((tlc::Warning)i);
    list += "                         " + name + std::string(name.size() < 23 ? 23 - name.size() : 1, ' ') +
            tlc::warningSummary((tlc::Warning)i) + "\n";
  }
  help.replace(help.find("@WARNINGS@"), 10, list);
  std::cout << help;
}

void printVersion() {
  std::cout << "tlc " << TLC_VERSION << "\n"
            << "  LLVM " << TLC_LLVM_VERSION << " (NVPTX backend)\n"
            << "  CUDA " << TLC_CUDA_VERSION << " when built; cubins by the toolkit found at run time:\n"
            << "  ptxas: " << tlc::describeAssembler() << "\n"
            << "  default target: sm_90a (also sm_100a, via sm_90 PTX retargeted to PTX 8.6)\n";
}

int usageError(const std::string& message) {
  std::cerr << "tlc: error: " << message << "\n";
  return tlc::kExitUsage;
}

// The largest response file read, and how deeply @files may name @files (a file
// that names itself would otherwise never end).
constexpr size_t kMaxResponseFileBytes = size_t(16) << 20;
constexpr int kMaxResponseFileDepth = 16;

// Splits a response file's text into arguments as GCC and Clang do: whitespace
// separates, single and double quotes group (and may be empty: ''), and a backslash
// takes the next character literally, inside quotes too. Returns false for a quote
// left open.
bool splitResponseFile(const std::string& text, std::vector<std::string>& arguments) {
  std::string token;
  bool inToken = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (std::isspace((unsigned char)c)) {
      if (inToken) arguments.push_back(std::move(token));
      token.clear();
      inToken = false;
      continue;
    }
    inToken = true;
    if (c == '\\' && i + 1 < text.size()) {
      token += text[++i];
    } else if (c == '\'' || c == '"') {
      size_t close = i + 1;
      for (; close < text.size() && text[close] != c; ++close) {
        if (text[close] == '\\' && close + 1 < text.size()) ++close;
        token += text[close];
      }
      if (close == text.size()) return false;
      i = close;
    } else {
      token += c;
    }
  }
  if (inToken) arguments.push_back(std::move(token));
  return true;
}

// Replaces every `@FILE` argument by the arguments FILE holds (GCC's and Clang's
// response files, for command lines longer than the system allows), FILE's own
// @FILEs included. Paths are relative to the working directory. A file that cannot
// be read is a usage error, not an input named `@FILE`.
bool expandResponseFiles(const std::vector<std::string>& arguments, std::vector<std::string>& expanded,
                         std::string& error, int depth = 0) {
  for (const std::string& argument : arguments) {
    if (argument.size() < 2 || argument[0] != '@') {
      expanded.push_back(argument);
      continue;
    }
    const std::string path = argument.substr(1);
    if (depth == kMaxResponseFileDepth) {
      error = "response file '" + path + "' is nested more than " + std::to_string(kMaxResponseFileDepth) +
              " deep (does it name itself?)";
      return false;
    }
    std::string reason;
    std::optional<std::string> text = tlc::readFile(path, reason, kMaxResponseFileBytes);
    if (!text) {
      error = "cannot read response file '" + path + "': " + reason;
      return false;
    }
    std::vector<std::string> inner;
    if (!splitResponseFile(*text, inner)) {
      error = "response file '" + path + "' has a quote that is not closed";
      return false;
    }
    if (!expandResponseFiles(inner, expanded, error, depth + 1)) return false;
  }
  return true;
}

// The options normalizeArguments renames, by the name the user gave them.
constexpr std::pair<const char*, const char*> kInternalOptionSpellings[] = {
    {"--error-limit", "-ferror-limit="},
    {"--diagnostics-color", "-fdiagnostics-color="},
    {"--depfile-path", "-MF"},
    {"--depfile-target", "-MT"},
};

// CLI11 names long options with two dashes; compilers spell some with one
// (-ferror-limit=N, -MF file). Translate those spellings before parsing. The
// warning flags (-w, -W...) are taken out, in order, into `warningFlags`: the
// last one about a warning wins, which CLI11's per-option lists would lose.
// -MT and -MQ become one list of Make targets, in order, -MQ's quoted.
std::vector<std::string> normalizeArguments(const std::vector<std::string>& argv, std::vector<std::string>& warningFlags,
                                            std::string& error) {
  std::vector<std::string> args;
  auto starts = [](const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; };
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (i > 0 && (arg == "-w" || (starts(arg, "-W") && arg.size() > 2))) {
      warningFlags.push_back(arg);
      continue;
    }
    if (i > 0) {
      if (starts(arg, "-ferror-limit=")) arg = "--error-limit=" + arg.substr(14);
      else if (arg == "-fcolor-diagnostics") arg = "--diagnostics-color=always";
      else if (arg == "-fno-color-diagnostics") arg = "--diagnostics-color=never";
      else if (arg == "-fdiagnostics-color") arg = "--diagnostics-color=always";
      else if (arg == "-fno-diagnostics-color") arg = "--diagnostics-color=never";
      else if (starts(arg, "-fdiagnostics-color=")) arg = "--diagnostics-color=" + arg.substr(20);
      else if (arg == "-MD" || arg == "-MMD") arg = "--depfile";  // no system headers: one meaning
      else if (arg == "-MP") arg = "--depfile-phony";
      else if (arg == "-lineinfo") arg = "--lineinfo";
      else if (arg == "-fsyntax-only") arg = "--syntax-only";
      else if (arg == "-MQ") {
        if (i + 1 == argv.size()) {
          error = "option '-MQ' needs a value";
          return {};
        }
        arg = "--depfile-target=" + tlc::quoteForMake(argv[++i]);
      } else if (starts(arg, "-MQ")) arg = "--depfile-target=" + tlc::quoteForMake(arg.substr(3));
      else if (arg == "-MF" || arg == "-MT") arg = arg == "-MF" ? "--depfile-path" : "--depfile-target";
      else if (starts(arg, "-MF")) arg = "--depfile-path=" + arg.substr(3);
      else if (starts(arg, "-MT")) arg = "--depfile-target=" + arg.substr(3);
    }
    args.push_back(std::move(arg));
  }
  return args;
}

bool wantsColorByDefault() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) && !std::getenv("NO_COLOR") && !(term && std::string(term) == "dumb");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> commandLine, warningFlags;
  std::string argumentError;
  commandLine.push_back(argv[0]);
  if (!expandResponseFiles(std::vector<std::string>(argv + 1, argv + argc), commandLine, argumentError))
    return usageError(argumentError);
  std::vector<std::string> args = normalizeArguments(commandLine, warningFlags, argumentError);
  if (!argumentError.empty()) return usageError(argumentError);
  // --help and --version win over anything else on the line, even mistakes.
  for (size_t i = 1; i < args.size(); ++i) {
    const bool help = args[i] == "-h" || args[i] == "--help";
    if (help || args[i] == "--version") {
      help ? printHelp() : printVersion();
      std::cout.flush();
      if (!std::cout) {  // e.g. stdout is a full disk: as for any output, exit 3
        std::cerr << "tlc: error: cannot write the " << (help ? "help" : "version") << " to stdout\n";
        return tlc::kExitEnvironment;
      }
      return tlc::kExitSuccess;
    }
  }

  tlc::PipelineOptions options;
  std::vector<std::string> emitList, defineList;
  std::string optLevel = "3", errorLimit = "20";
  std::string colorMode = "auto";

  CLI::App app{"tlc"};
  app.set_help_flag();   // ours is above
  app.allow_extras();    // unknown options become our own error message
  app.add_option("input", options.inputPath);
  app.add_option("-o", options.outputPath);
  app.add_option("--header", options.headerPath);
  app.add_option("--emit", emitList)->delimiter(',')->allow_extra_args(false);
  std::vector<std::string> archList;
  app.add_option("--arch", archList)->delimiter(',')->allow_extra_args(false);
  app.add_option("--prefix", options.prefix);
  // The last -O wins, as in GCC and Clang: a build system appends a per-file -O0 to
  // its project-wide options (tlc_add_kernels: OPTIONS, then TLC_OPTIONS).
  app.add_option("-O", optLevel)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("-D", defineList)->allow_extra_args(false);
  app.add_flag("--remarks", options.remarks);
  app.add_option("--error-limit", errorLimit);
  app.add_option("--diagnostics-color", colorMode);
  app.add_flag("-v,--verbose", options.verbose);
  app.add_flag("--lineinfo", options.lineInfo);
  app.add_flag("--nvtx", options.nvtx);
  app.add_flag("--depfile", options.depfile);
  app.add_option("--depfile-path", options.depfilePath);
  app.add_option("--depfile-target", options.depTargets)->allow_extra_args(false);
  app.add_flag("--depfile-phony", options.depPhony);
  app.add_flag("--write-if-changed", options.writeIfChanged);
  app.add_flag("--syntax-only", options.syntaxOnly);
  app.add_flag("--time-report", options.timeReport);
  std::string jobs;
  app.add_option("-j", jobs)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::vector<const char*> argvForCLI;
  for (const std::string& a : args) argvForCLI.push_back(a.c_str());
  try {
    app.parse((int)argvForCLI.size(), argvForCLI.data());
  } catch (const CLI::ArgumentMismatch& e) {
    // CLI11 says "-o: 1 required TEXT missing"; name the option in plain words, as
    // the user spelt it (normalizeArguments renamed the compiler-style ones).
    std::string what = e.what();
    std::string option = what.substr(0, what.find(':'));
    for (const auto& [internal, spelling] : kInternalOptionSpellings)
      if (option == internal) option = spelling;
    return usageError("option '" + option + "' needs a value");
  } catch (const CLI::ParseError& e) {
    return usageError(e.what());
  }

  for (const std::string& extra : app.remaining()) {
    if (extra.size() > 1 && extra[0] == '-')
      return usageError("unknown option '" + extra + "' (see 'tlc --help')");
    return usageError("more than one input file: '" + options.inputPath + "' and '" + extra + "'");
  }
  if (options.inputPath.empty()) return usageError("no input file (see 'tlc --help')");

  for (const std::string& name : emitList) {
    std::optional<tlc::Stage> stage = tlc::stageFromName(name);
    if (!stage) {
      std::string known;
      for (tlc::Stage s : tlc::allStages()) known += std::string(known.empty() ? "" : ", ") + tlc::stageName(s);
      return usageError("unknown --emit stage '" + name + "' (expected one of: " + known + ")");
    }
    options.emit.push_back(*stage);
  }

  for (const std::string& define : defineList) {
    size_t eq = define.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == define.size())
      return usageError("-D expects NAME=VALUE, got '" + define + "'");
    std::string name = define.substr(0, eq);
    for (const auto& earlier : options.defines)
      if (earlier.name == name)  // which one should win is a guess: ask
        return usageError("-D " + name + " given twice (" + name + "=" + earlier.value + ", then " + define + ")");
    options.defines.push_back({name, define.substr(eq + 1)});
  }

  if (optLevel.size() != 1 || optLevel[0] < '0' || optLevel[0] > '3')
    return usageError("invalid optimization level '-O" + optLevel + "' (expected -O0, -O1, -O2 or -O3)");
  options.optLevel = optLevel[0] - '0';

  if (errorLimit.empty() || errorLimit.find_first_not_of("0123456789") != std::string::npos ||
      errorLimit.size() > 9)
    return usageError("invalid -ferror-limit value '" + errorLimit + "' (expected a number)");
  options.errorLimit = (unsigned)std::stoul(errorLimit);

  // -j N: threads for the kernels (the last one wins, as with -O); default: the cores.
  if (!jobs.empty()) {
    if (jobs.find_first_not_of("0123456789") != std::string::npos || jobs.size() > 4 || std::stoul(jobs) == 0)
      return usageError("invalid -j value '" + jobs + "' (expected a number of threads, 1 to 9999)");
    options.jobs = (unsigned)std::stoul(jobs);
  }

  if (!options.prefix.empty()) {
    const std::string& p = options.prefix;
    bool ok = !std::isdigit((unsigned char)p[0]) && p[0] != '_';
    for (char c : p) ok = ok && (std::isalnum((unsigned char)c) || c == '_');
    if (!ok) return usageError("invalid --prefix '" + p + "' (expected a C identifier that does not start with '_')");
  }

  // The backend decides which targets it supports; here only the spelling is checked.
  for (const std::string& arch : archList) {
    if (arch.rfind("sm_", 0) != 0 || arch.size() < 5 || arch.find_first_not_of("0123456789", 3) < arch.size() - 1 ||
        !std::isdigit((unsigned char)arch[3]) || !std::isdigit((unsigned char)arch[4]) ||
        (!std::isdigit((unsigned char)arch.back()) && arch.back() != 'a'))
      return usageError("invalid --arch '" + arch + "' (expected sm_XX or sm_XXa, e.g. sm_90a)");
    if (!tlc::Target::fromArch(arch)) {
      std::string known;
      for (const std::string& a : tlc::Target::supportedArchs()) known += (known.empty() ? "" : ", ") + a;
      return usageError("unsupported --arch '" + arch + "' (tlc compiles for " + known + ")");
    }
    for (const std::string& other : options.moreArchs)
      if (other == arch) return usageError("--arch '" + arch + "' given twice");
    if (&arch != &archList.front() && arch == archList.front()) return usageError("--arch '" + arch + "' given twice");
    if (&arch == &archList.front()) options.arch = arch;
    else options.moreArchs.push_back(arch);
  }

  if (colorMode == "always") options.color = true;
  else if (colorMode == "never") options.color = false;
  else if (colorMode == "auto") options.color = wantsColorByDefault();
  else
    return usageError("invalid -fdiagnostics-color value '" + colorMode + "' (expected auto, always or never)");

  // -MF or -MT alone asks for a dependency file too.
  if (!options.depfilePath.empty() || !options.depTargets.empty() || options.depPhony) options.depfile = true;

  // Warning flags, in order. An unknown name is itself a warning, as in Clang
  // (-Wunknown-warning-option), reported once every flag is known: -Werror
  // makes it an error (exit 2), -Wno-unknown-warning-option and -w silence it.
  std::vector<std::string> unknown;
  for (const std::string& flag : warningFlags)
    if (options.warnings.apply(flag) == tlc::WarningOptions::FlagResult::UnknownName) unknown.push_back(flag);
  for (const std::string& flag : unknown) {
    std::string message = "unknown warning option '" + flag + "'";
    switch (options.warnings.actionFor(tlc::Warning::UnknownWarningOption)) {
      case tlc::WarningOptions::Action::Ignore: break;
      case tlc::WarningOptions::Action::Warn:
        std::cerr << "tlc: warning: " << message << " [-Wunknown-warning-option]\n";
        break;
      case tlc::WarningOptions::Action::Error:
        return usageError(message + " [-Werror,-Wunknown-warning-option]");
    }
  }
  return tlc::runPipeline(options, std::cout, std::cerr);
}
