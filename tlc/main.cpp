// tlc: the command line. Turns argv into PipelineOptions (CLI11 does the parsing;
// the help text is written by hand so it reads well) and runs the pipeline.
// CLI11 reports bad usage by throwing; that stays inside main.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "Pipeline.h"

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

Output:
  -o PATH              where the cubin goes (default: FILE.cubin in the current
                       directory); when only text stages are emitted, where the
                       text goes (default: stdout)
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
                       several text stages print in pipeline order

Code generation:
  --arch=ARCH          target GPU (default: sm_90a)
  -O0 -O1 -O2 -O3      optimization level (default: -O3)
  -D NAME=VALUE        override `const NAME` with an integer or a dtype;
                       repeatable; -DNAME=VALUE works too

Diagnostics:
  --remarks            explain how each copy was lowered (TMA, cp.async, SIMT)
  -ferror-limit=N      stop after N errors (default: 20; 0: no limit)
  -Werror              treat warnings as errors
  -w                   suppress warnings
  -fcolor-diagnostics, -fno-color-diagnostics
                       color the diagnostics (default: when stderr is a terminal)
  -v, --verbose        print each phase with its time

Other:
  -h, --help           print this help
  --version            print the versions of tlc, LLVM and CUDA

Exit status: 0 success, 1 errors in the source, 2 bad usage,
             3 I/O or toolchain failure.

Examples:
  tlc examples/tile_copy.tl -o build/tile_copy.cubin
      writes build/tile_copy.cubin and build/tile_copy.h
  tlc kernel.tl --emit=ptx -D BM=64 -o kernel.ptx
)";

void printVersion() {
  std::cout << "tlc " << TLC_VERSION << "\n"
            << "  LLVM " << TLC_LLVM_VERSION << " (NVPTX backend)\n"
            << "  CUDA " << TLC_CUDA_VERSION << " (nvJitLink)\n"
            << "  default target: sm_90a\n";
}

int usageError(const std::string& message) {
  std::cerr << "tlc: error: " << message << "\n";
  return tlc::kExitUsage;
}

// CLI11 names long options with two dashes; compilers spell some with one
// (-ferror-limit=N, -Werror). Translate those spellings before parsing.
std::vector<std::string> normalizeArguments(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0) {
      if (arg.rfind("-ferror-limit=", 0) == 0) arg = "--error-limit=" + arg.substr(14);
      else if (arg == "-fcolor-diagnostics") arg = "--color-diagnostics";
      else if (arg == "-fno-color-diagnostics") arg = "--no-color-diagnostics";
      else if (arg == "-Werror") arg = "--warnings-as-errors";
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
  std::vector<std::string> args = normalizeArguments(argc, argv);
  // --help and --version win over anything else on the line, even mistakes.
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      std::cout << kHelp;
      return tlc::kExitSuccess;
    }
    if (args[i] == "--version") {
      printVersion();
      return tlc::kExitSuccess;
    }
  }

  tlc::PipelineOptions options;
  std::vector<std::string> emitList, defineList;
  std::string optLevel = "3", errorLimit = "20";
  bool color = false, noColor = false;

  CLI::App app{"tlc"};
  app.set_help_flag();   // ours is above
  app.allow_extras();    // unknown options become our own error message
  app.add_option("input", options.inputPath);
  app.add_option("-o", options.outputPath);
  app.add_option("--header", options.headerPath);
  app.add_option("--emit", emitList)->delimiter(',')->allow_extra_args(false);
  app.add_option("--arch", options.arch);
  app.add_option("-O", optLevel);
  app.add_option("-D", defineList)->allow_extra_args(false);
  app.add_flag("--remarks", options.remarks);
  app.add_option("--error-limit", errorLimit);
  app.add_flag("--warnings-as-errors", options.warningsAsErrors);
  app.add_flag("-w", options.suppressWarnings);
  app.add_flag("--color-diagnostics", color);
  app.add_flag("--no-color-diagnostics", noColor);
  app.add_flag("-v,--verbose", options.verbose);

  std::vector<const char*> argvForCLI;
  for (const std::string& a : args) argvForCLI.push_back(a.c_str());
  try {
    app.parse((int)argvForCLI.size(), argvForCLI.data());
  } catch (const CLI::ArgumentMismatch& e) {
    // CLI11 says "-o: 1 required TEXT missing"; name the option in plain words.
    std::string what = e.what();
    return usageError("option '" + what.substr(0, what.find(':')) + "' needs a value");
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
    options.defines.push_back({define.substr(0, eq), define.substr(eq + 1)});
  }

  if (optLevel.size() != 1 || optLevel[0] < '0' || optLevel[0] > '3')
    return usageError("invalid optimization level '-O" + optLevel + "' (expected -O0, -O1, -O2 or -O3)");
  options.optLevel = optLevel[0] - '0';

  if (errorLimit.empty() || errorLimit.find_first_not_of("0123456789") != std::string::npos ||
      errorLimit.size() > 9)
    return usageError("invalid -ferror-limit value '" + errorLimit + "' (expected a number)");
  options.errorLimit = (unsigned)std::stoul(errorLimit);

  // The backend decides which targets it supports; here only the spelling is checked.
  if (options.arch.rfind("sm_", 0) != 0 || options.arch.size() < 5 ||
      options.arch.find_first_not_of("0123456789", 3) < options.arch.size() - 1 ||
      !std::isdigit((unsigned char)options.arch[3]))
    return usageError("invalid --arch '" + options.arch + "' (expected sm_XX or sm_XXa, e.g. sm_90a)");

  options.color = noColor ? false : (color || wantsColorByDefault());
  return tlc::runPipeline(options, std::cout, std::cerr);
}
