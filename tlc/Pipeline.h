// Pipeline: the compiler's phases in order, from a .tl file to a cubin and a header.
//
// `runPipeline` is the one place that lists the phases; the CLI (tlc/main.cpp) only
// turns the command line into PipelineOptions, and tests call it directly. Each
// phase's product is handed to the next; the run stops after the last stage asked
// for, or after the first phase that reported errors.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sema/Sema.h"  // Define

namespace tlc {

// What `--emit=` can ask for, in pipeline order.
// Meta (the launch metadata, JSON) and Sass (the cubin disassembled) come last:
// Meta is written with the cubin but needs only the loop IR, so `--emit=meta` alone
// stops after lowering; Sass needs the cubin, not the header.
enum class Stage { Tokens, Ast, TileIR, LoopIR, LLVM, PTX, Cubin, Header, Source, Meta, Sass };

const char* stageName(Stage stage);  // the --emit spelling: "tokens" ... "source"
std::optional<Stage> stageFromName(std::string_view name);
const std::vector<Stage>& allStages();

// Process exit codes. Scripts and the golden tests rely on these values.
enum ExitCode : int {
  kExitSuccess = 0,
  kExitSourceErrors = 1,  // the .tl file has errors (reported as diagnostics)
  kExitUsage = 2,         // a bad command line
  kExitEnvironment = 3,   // I/O failure, or the toolchain (LLVM, ptxas, nvlink) failed
};

// `-` as the input reads stdin; as -o, writes a text output to stdout.
constexpr const char* kStandardStreamPath = "-";
// What diagnostics, the header and `.file` call a source read from stdin.
constexpr const char* kStandardInputName = "<stdin>";

struct PipelineOptions {
  std::string inputPath;      // as given on the command line; diagnostics print it so ("-": stdin)
  std::vector<Stage> emit;    // empty: the default build, cubin + header
  std::string outputPath;     // -o; see planOutputs for the defaults
  std::string headerPath;     // --header
  std::string arch = "sm_90a";
  std::vector<std::string> moreArchs;  // --arch given several times: the header embeds one cubin each
  std::string prefix;         // --prefix: names every C symbol of the header PREFIX_...
  int optLevel = 3;
  bool lineInfo = false;      // -lineinfo: PTX .file/.loc directives, kept in the cubin
  bool nvtx = false;          // --nvtx: NVTX ranges around the header's launches
  std::vector<Define> defines;  // -D NAME=VALUE, in command-line order
  bool remarks = false;
  unsigned errorLimit = 20;   // 0: no limit
  WarningOptions warnings;    // -w, -Werror, -W<name>, ... in command-line order
  bool color = false;
  // -v: one line per phase with its time, then "tlc: wrote ..." (a compile is
  // otherwise silent on success, like cc: a build of 500 kernels prints nothing).
  bool verbose = false;
  // -j N: threads that build the file's kernels (lowering, LLVM, PTX; the cubin is
  // assembled on the calling thread, in source order). 0: one per core. The outputs
  // are the same bytes for every value.
  unsigned jobs = 0;
  // -fsyntax-only: parse and check (sema), report the diagnostics, write nothing
  // (no cubin, header or dependency file; no CUDA toolkit is needed). For editors.
  bool syntaxOnly = false;
  // --time-report: -v's line per phase (without the files written), and one line per
  // group of kernels with its lowering, LLVM and PTX times, in source order.
  bool timeReport = false;

  // Dependency file (-MD, -MF, -MT, -MP): Make syntax, "target: input".
  bool depfile = false;               // -MD (or -MF) given: write one
  std::string depfilePath;            // -MF; default: the first output file's path, .d
  // -MT (as given) and -MQ (quoteForMake'd), in order; default: the first output file, quoted.
  std::vector<std::string> depTargets;
  bool depPhony = false;              // -MP: a phony rule per dependency (except the input)
  // --write-if-changed: an output whose bytes would not change is left as it is
  // (same inode, same mtime).
  bool writeIfChanged = false;
};

// Where each product goes, decided before any phase runs so that a bad combination
// is a usage error rather than a surprise after compiling.
//
// - If the cubin is emitted, it goes to -o (default: the input's stem + ".cubin" in
//   the current directory) and the header, if emitted, to --header (default: the
//   cubin's path with ".h"); other text stages print to stdout.
// - Otherwise the header goes to --header when given, and the text stages, in
//   pipeline order, to -o when given, else to stdout (also for `-o -`). A header
//   is a file of its own: it shares an -o file with no other stage.
// - `--emit=meta` with the cubin writes STEM.meta.json beside it; without the
//   cubin it is a text stage like the others.
// - The cubin is binary: `-o -` with it is a usage error. Reading stdin (`-`),
//   the outputs have no default name: a file output needs -o.
struct OutputPlan {
  std::vector<Stage> stages;      // every stage asked for, in pipeline order, no repeats
  std::vector<Stage> textStages;  // the ones printed to textPath or stdout
  std::string textPath;           // empty: stdout
  std::string cubinPath;          // empty: the cubin is not written
  std::string headerPath;         // empty: the header is not written to its own file
  std::string depfilePath;        // empty: no dependency file
  std::string sourcePath;         // --emit=header,source: the .c file (the header's path, .c)
  std::string metaPath;           // --emit=meta with a cubin: beside it, STEM.meta.json
  std::vector<std::string> moreCubinPaths;  // per options.moreArchs: "dir/k.sm_80.cubin"
  std::vector<std::string> depTargets;  // the depfile's targets (-MT, else the first output)
  Stage last = Stage::Header;     // the pipeline stops after this stage

  bool wants(Stage s) const;
};

// Returns the plan, or nullopt with `error` set for a contradictory command line.
std::optional<OutputPlan> planOutputs(const PipelineOptions& options, std::string& error);

// "dir/tile-copy.tl" -> "tile_copy": a C identifier for the header's symbols.
std::string symbolPrefixFor(const std::string& inputPath);
// "dir/a.cubin" + ".h" -> "dir/a.h"; a name without an extension gets one.
std::string replaceExtension(const std::string& path, const std::string& extension);

// A path as Make reads it in a rule (GCC's -MQ): a space or tab as `\ `, `#` as
// `\#`, `$` as `$$`.
std::string quoteForMake(const std::string& path);

// The dependency file's text in Make syntax: `targets: deps`, plus `dep:` lines for
// -MP. The targets are Make text already (-MT is written as given, -MQ and the default
// target quoted); the deps are paths as given, quoted here.
std::string makeDepfile(const std::vector<std::string>& targets, const std::vector<std::string>& deps,
                        bool phony, const std::string& input);

// Runs the phases. Products printed as text go to `out`; diagnostics and progress
// lines to `err`. Returns an ExitCode.
int runPipeline(const PipelineOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tlc
