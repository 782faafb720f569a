// Cubin: PTX -> cubin with the CUDA toolkit's ptxas and nvlink, run as processes.
//
// Each PTX batch is compiled to a relocatable object (`ptxas -c`), several at once,
// and nvlink links the objects into the cubin: the route nvJitLink takes inside its
// library (the same machine code, section for section; only the toolkit note
// naming the tools differs), without loading the library into tlc (Toolkit.h says
// what that cost). The cubin depends only on the PTX batches and their order: the
// temporary files' names never reach it, and ptxas's messages name the batch, not
// the file it read.
//
// One exception: a file that is one batch and uses ptxas's IEEE slow-path subroutines
// (usesSlowPathCalls) is assembled whole-program (`ptxas` without -c, no nvlink). In a
// relocatable object those subroutines are ABI calls, around which ptxas keeps every
// live value in callee-saved registers and saves the predicates: rmsnorm at 512
// threads took 44 registers instead of 32, 2 blocks an SM instead of 4, and ran 23%
// slower (H100, docs/performance.md, "eighteenth session"). Without such calls the
// relocatable route stays: there whole-program ptxas gave the general variants fewer
// registers and up to 18.7% less speed.
//
// The toolkit is found at the first add (a build that fails before needs no CUDA):
// with CUDA_HOME set, that toolkit only; else /usr/local/cuda, then the PATH. ptxas
// and nvlink come from the same directory: objects of one ptxas linked by another
// toolkit's nvlink are refused or worse.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "backend/Backend.h"
#include "backend/Toolkit.h"
#include "ir/Target.h"
#include "support/FileIO.h"

namespace tlc {

namespace {

// ptxas and nvlink accept -O0 .. -O3; tlc passes -O0 for -O0 and -O3 otherwise: the
// PTX is already optimized at the level asked, and ptxas's lower levels only make
// slower code (what nvJitLink, which has no -O1/-O2, did too).
const char* ptxasOptimization(const TargetOptions& target) { return target.optLevel <= 0 ? "-O0" : "-O3"; }

// The lines of a tool's output.
std::vector<std::string> linesOf(const std::string& log) {
  std::vector<std::string> lines;
  for (size_t lineStart = 0; lineStart < log.size();) {
    size_t lineEnd = log.find('\n', lineStart);
    if (lineEnd == std::string::npos) lineEnd = log.size();
    lines.push_back(log.substr(lineStart, lineEnd - lineStart));
    lineStart = lineEnd + 1;
  }
  return lines;
}

// One remark per entry (`--remarks`), in the order of `entryOrder` (the source order
// of the variants), entries it does not name last, in the tool's order.
void remarkUsage(std::vector<std::pair<std::string, std::string>> usage, const std::vector<std::string>& entryOrder,
                 DiagnosticEngine& diags) {
  auto rank = [&](const std::string& entry) {
    return size_t(std::find(entryOrder.begin(), entryOrder.end(), entry) - entryOrder.begin());
  };
  std::stable_sort(usage.begin(), usage.end(), [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  for (const auto& [entry, what] : usage) diags.remark({}, "kernel '" + entry + "' " + what);
}

// With -v, nvlink ends its output with one summary per entry:
//   nvlink info    : Function properties for 'NAME':
//   nvlink info    : used 32 registers, used 1 barriers, 0 stack, 1024 bytes smem, ... 0 bytes lmem
// Each becomes a remark: registers and local memory are what one checks first when a
// kernel is slow. The linker lists the entries of several inputs last input first.
void reportResourceUsage(const std::string& linkLog, const std::vector<std::string>& entryOrder,
                         DiagnosticEngine& diags) {
  const std::string header = "Function properties for '";
  std::vector<std::pair<std::string, std::string>> usage;  // entry, what it uses
  std::string kernel;
  for (const std::string& line : linesOf(linkLog)) {
    if (line.rfind("nvlink info", 0) != 0) continue;
    size_t at = line.find(header);
    if (at != std::string::npos) {
      size_t end = line.find('\'', at + header.size());
      kernel = end == std::string::npos ? std::string() : line.substr(at + header.size(), end - at - header.size());
      continue;
    }
    at = line.find(": used ");
    if (!kernel.empty() && at != std::string::npos) {
      usage.push_back({kernel, line.substr(at + 2)});
      kernel.clear();
    }
  }
  remarkUsage(std::move(usage), entryOrder, diags);
}

// Whether `ptx` has an instruction that ptxas implements by calling one of its IEEE
// slow-path subroutines: division, reciprocal and square root with a rounding mode
// (`div.rn.f32`, `rcp.rz.f64`, `sqrt.rn.ftz.f32`, ...). Their .approx and .full forms
// are inline code.
bool usesSlowPathCalls(const std::string& ptx) {
  for (const char* op : {"div.r", "rcp.r", "sqrt.r"}) {
    const size_t length = std::strlen(op);
    for (size_t at = ptx.find(op); at != std::string::npos; at = ptx.find(op, at + length)) {
      // An instruction: after indentation (or a guard), followed by a rounding mode.
      const char before = at == 0 ? '\n' : ptx[at - 1];
      const char mode = at + length < ptx.size() ? ptx[at + length] : ' ';
      if ((before == '\t' || before == ' ' || before == '\n') && (mode == 'n' || mode == 'z' || mode == 'm' || mode == 'p'))
        return true;
    }
  }
  return false;
}

// With -v, whole-program ptxas says per entry:
//   ptxas info    : Compiling entry function 'NAME' for 'sm_90a'
//   ptxas info    : Function properties for NAME
//       0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//   ptxas info    : Used 32 registers, used 1 barriers
// Each becomes the remark nvlink's summary gives on the relocatable route (its smem
// and cmem figures are not in ptxas's), in the order of `entryOrder`.
void reportWholeProgramUsage(const std::string& log, const std::vector<std::string>& entryOrder,
                             DiagnosticEngine& diags) {
  const std::string compiling = "Compiling entry function '";
  std::vector<std::pair<std::string, std::string>> usage;  // entry, what it uses
  std::string kernel, frame;
  for (const std::string& line : linesOf(log)) {
    if (size_t at = line.find(compiling); at != std::string::npos) {
      size_t end = line.find('\'', at + compiling.size());
      kernel = end == std::string::npos ? std::string() : line.substr(at + compiling.size(), end - at - compiling.size());
      frame.clear();
    } else if (!kernel.empty() && line.find("bytes stack frame") != std::string::npos) {
      frame = line.substr(line.find_first_not_of(' '));
    } else if (size_t at = line.find(": Used "); !kernel.empty() && at != std::string::npos) {
      usage.push_back({kernel, "used" + line.substr(at + 6) + (frame.empty() ? "" : ", " + frame)});
      kernel.clear();
    }
  }
  remarkUsage(std::move(usage), entryOrder, diags);
}

// The tools' messages name the files they read; each temporary name becomes the
// name the caller gave (the batch's first kernel), so messages are the same on
// every run and say something to the user.
std::string withNames(std::string log, const std::vector<std::pair<std::string, std::string>>& renames) {
  for (const auto& [from, to] : renames)
    for (size_t at = 0; (at = log.find(from, at)) != std::string::npos; at += to.size()) log.replace(at, from.size(), to);
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.pop_back();
  return log;
}

// A tool that failed: what it was and how it ended, then what it printed, with the
// batches' names in place of the temporary files'.
void reportToolFailure(const std::string& what, const std::string& log,
                       const std::vector<std::pair<std::string, std::string>>& renames, DiagnosticEngine& diags) {
  std::string message = "ptx assembly failed: " + what;
  std::string named = withNames(log, renames);
  if (!named.empty()) message += "\n" + named;
  diags.fatal(std::move(message));
}

// The program `tool` in the directory of `program` (one toolkit's bin/).
std::string besideProgram(const std::string& program, const char* tool) {
  size_t slash = program.rfind('/');
  return (slash == std::string::npos ? std::string() : program.substr(0, slash + 1)) + tool;
}

}  // namespace

// A batch's files and its name for the messages.
struct CubinAssembler::PendingBatch {
  std::string ptxPath, objectPath, logPath, name;
};

struct CubinAssembler::Impl {
  std::string ptxas, nvlink;
  std::optional<TemporaryDirectory> directory;
  // A batch being compiled: its process, and its name for the messages.
  struct Compiling {
    ToolProcess process;
    std::string name;
  };
  // Oldest first. Declared after `directory`, so destroyed before it: a process still
  // running is killed and reaped before its files are removed.
  std::deque<Compiling> compiling;
  std::vector<std::string> objects;  // in the order added
  // The first batch, not started yet while it may be the file's only one and uses
  // ptxas's slow-path calls: then finish() assembles it whole-program.
  std::optional<PendingBatch> pending;
  std::vector<std::pair<std::string, std::string>> renames;  // temporary file -> the batch's name
  bool failed = false;
};

CubinAssembler::CubinAssembler(TargetOptions target, unsigned parallelism)
    : target_(std::move(target)), parallelism_(parallelism == 0 ? 1 : parallelism) {}
CubinAssembler::~CubinAssembler() = default;

bool CubinAssembler::start(DiagnosticEngine& diags) {
  impl_ = std::make_unique<Impl>();
  std::string looked;
  impl_->ptxas = findTool("ptxas", nullptr, /*strictCudaHome=*/true, looked);
  if (!impl_->ptxas.empty()) {
    impl_->nvlink = besideProgram(impl_->ptxas, "nvlink");
    if (::access(impl_->nvlink.c_str(), X_OK) != 0) {
      diags.fatal("cannot assemble the cubin: " + impl_->ptxas + " has no nvlink beside it (" + impl_->nvlink +
                  "): set CUDA_HOME to a whole CUDA toolkit (12.0 or newer)");
      return false;
    }
  } else {
    diags.fatal("cannot assemble the cubin: ptxas not found (looked for " + looked +
                "): set CUDA_HOME to a CUDA toolkit (12.0 or newer), or stop at --emit=ptx");
    return false;
  }
  std::string error;
  std::optional<TemporaryDirectory> directory = TemporaryDirectory::create(error);
  if (!directory) {
    diags.fatal("cannot assemble the cubin: " + error);
    return false;
  }
  impl_->directory.emplace(std::move(*directory));
  return true;
}

// Waits for the oldest batch still compiling (its output to *logOut when given);
// false (reported) if it failed.
bool CubinAssembler::finishOldest(DiagnosticEngine& diags, std::string* logOut) {
  Impl::Compiling batch = std::move(impl_->compiling.front());
  impl_->compiling.pop_front();
  std::string log, why;
  const bool succeeded = batch.process.wait(log, why);
  if (logOut) *logOut = log;
  if (succeeded) return true;
  impl_->failed = true;
  // --arch names every architecture some toolkit assembles, but not every toolkit
  // assembles all of them (CUDA 13 dropped sm_50 to sm_72; sm_100a needs CUDA 12.8):
  // that is the toolkit's limit, said as such (not as a failure of tlc's PTX).
  if (log.find("is not defined for option 'gpu-name'") != std::string::npos) {
    const std::optional<Target> target = Target::fromArch(target_.arch);
    const bool dropped = target && target->smVersion() < 75;
    diags.fatal("cannot assemble the cubin: " + describeAssembler() + " does not assemble " + target_.arch +
                (dropped ? " (CUDA 13 dropped sm_50 to sm_72): set CUDA_HOME to a toolkit that does (CUDA 12)"
                         : ": set CUDA_HOME to a newer toolkit") +
                ", or stop at --emit=ptx");
    return false;
  }
  reportToolFailure("ptxas (" + why + ") on " + batch.name, log, impl_->renames, diags);
  return false;
}

bool CubinAssembler::add(const std::string& ptx, const std::string& name, DiagnosticEngine& diags) {
  if (!impl_ && !start(diags)) impl_->failed = true;
  if (impl_->failed) return false;
  const size_t index = impl_->objects.size();
  char stem[32];
  std::snprintf(stem, sizeof stem, "batch%05zu", index);
  const TemporaryDirectory& dir = *impl_->directory;
  std::string ptxPath = dir.file(std::string(stem) + ".ptx"), objectPath = dir.file(std::string(stem) + ".o");
  std::string error;
  if (!writeFileAtomically(ptxPath, ptx, error)) {
    diags.fatal("cannot assemble the cubin: " + error);
    impl_->failed = true;
    return false;
  }
  // The object's name too: nvlink's messages name the objects it reads.
  const std::string stemOfName = name.size() > 4 && name.compare(name.size() - 4, 4, ".ptx") == 0
                                     ? name.substr(0, name.size() - 4) : name;
  impl_->renames.push_back({ptxPath, name});
  impl_->renames.push_back({objectPath, stemOfName + ".o"});
  impl_->objects.push_back(objectPath);
  PendingBatch batch{ptxPath, objectPath, dir.file(std::string(stem) + ".log"), name};
  if (impl_->pending) {  // a second batch: the first goes the relocatable way after all
    PendingBatch first = std::move(*impl_->pending);
    impl_->pending.reset();
    if (!startRelocatable(first, diags)) return false;
  }
  if (index == 0 && usesSlowPathCalls(ptx)) {
    impl_->pending = std::move(batch);
    return true;
  }
  return startRelocatable(batch, diags);
}

bool CubinAssembler::startRelocatable(const PendingBatch& batch, DiagnosticEngine& diags) {
  std::vector<std::string> argv{impl_->ptxas, "-arch=" + target_.arch, ptxasOptimization(target_), "-c"};
  // Keeps the PTX's .loc lines as the cubin's line table (what Nsight Compute shows).
  if (target_.lineInfo) argv.push_back("-lineinfo");
  argv.insert(argv.end(), {batch.ptxPath, "-o", batch.objectPath});
  std::string error;
  std::optional<ToolProcess> process = ToolProcess::start(argv, batch.logPath, error);
  if (!process) {
    diags.fatal("cannot assemble the cubin: " + error);
    impl_->failed = true;
    return false;
  }
  impl_->compiling.push_back({std::move(*process), batch.name});
  // At most `parallelism_` ptxas processes at once (they run beside the threads
  // lowering the next kernels): with the batch size, that bounds their memory.
  while (impl_->compiling.size() > parallelism_)
    if (!finishOldest(diags)) return false;
  return true;
}

std::optional<std::vector<uint8_t>> CubinAssembler::finish(DiagnosticEngine& diags,
                                                          const std::vector<std::string>& entryOrder) {
  TLC_ASSERT(impl_ && !impl_->failed && !impl_->objects.empty(), "CubinAssembler::finish without a successful add");
  const TemporaryDirectory& dir = *impl_->directory;
  const std::string cubinPath = dir.file("linked.cubin");
  std::string error, log;
  const bool wholeProgram = impl_->pending.has_value();
  if (wholeProgram) {  // the file's one batch, with slow-path calls: ptxas writes the cubin
    const PendingBatch& batch = *impl_->pending;
    std::vector<std::string> argv{impl_->ptxas, "-arch=" + target_.arch, ptxasOptimization(target_), "-v"};
    if (target_.lineInfo) argv.push_back("-lineinfo");
    argv.insert(argv.end(), {batch.ptxPath, "-o", cubinPath});
    std::optional<ToolProcess> process = ToolProcess::start(argv, batch.logPath, error);
    if (!process) {
      diags.fatal("cannot assemble the cubin: " + error);
      return std::nullopt;
    }
    impl_->compiling.push_back({std::move(*process), batch.name});
    if (!finishOldest(diags, &log)) return std::nullopt;
  } else {
    while (!impl_->compiling.empty())
      if (!finishOldest(diags)) return std::nullopt;
    std::vector<std::string> argv{impl_->nvlink, "-arch=" + target_.arch, "-v"};
    argv.insert(argv.end(), impl_->objects.begin(), impl_->objects.end());
    argv.insert(argv.end(), {"-o", cubinPath});
    std::string why;
    std::optional<ToolProcess> process = ToolProcess::start(argv, dir.file("link.log"), error);
    if (!process) {
      diags.fatal("cannot assemble the cubin: " + error);
      return std::nullopt;
    }
    if (!process->wait(log, why)) {
      reportToolFailure("nvlink (" + why + ")", log, impl_->renames, diags);
      return std::nullopt;
    }
  }
  std::optional<std::string> bytes = readFile(cubinPath, error);
  if (!bytes || bytes->empty()) {
    // Not the temporary file's name: messages are the same on every run.
    diags.fatal(std::string("cannot assemble the cubin: ") + (wholeProgram ? "ptxas" : "nvlink") +
                " succeeded but wrote no cubin" + (bytes ? " (an empty file)" : ""));
    return std::nullopt;
  }
  if (wholeProgram)
    reportWholeProgramUsage(log, entryOrder, diags);
  else
    reportResourceUsage(log, entryOrder, diags);
  impl_.reset();
  return std::vector<uint8_t>(bytes->begin(), bytes->end());
}

std::string describeAssembler() {
  std::string looked;
  const std::string ptxas = findTool("ptxas", nullptr, /*strictCudaHome=*/true, looked);
  if (ptxas.empty()) return "not found (looked for " + looked + "); cubins need CUDA_HOME set to a CUDA toolkit";
  std::string error;
  std::optional<std::string> version = runTool({ptxas, "--version"}, error);
  if (!version) return ptxas + " (it does not run: " + error.substr(0, error.find('\n')) + ")";
  // "Cuda compilation tools, release 13.0, V13.0.88": the line that names the release.
  size_t release = version->find("release");
  if (release == std::string::npos) return ptxas;
  size_t lineStart = version->rfind('\n', release);
  lineStart = lineStart == std::string::npos ? 0 : lineStart + 1;
  return ptxas + " (" + version->substr(lineStart, version->find('\n', release) - lineStart) + ")";
}

std::optional<std::vector<uint8_t>> assembleCubin(const std::string& ptx, const TargetOptions& target,
                                                  DiagnosticEngine& diags) {
  CubinAssembler assembler(target);
  if (!assembler.add(ptx, "tlc.ptx", diags)) return std::nullopt;
  return assembler.finish(diags);
}

}  // namespace tlc
