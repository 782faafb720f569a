// PTX: the NVPTX TargetMachine, LLVM's optimization pipeline (less SkippedPasses.def) and the PTX printer.
//
// Before: the LLVM modules from generateLLVM (already optimized at the target's level).
// After: the PTX text of every kernel in it, for `target.arch` (for a target LLVM 19
// does not know, via its route: PTX for the plain base CPU, retargeted; Retarget.cpp).
#include <cctype>
#include <map>
#include <string>
#include <string_view>

#include <llvm/Analysis/CFG.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetOptions.h>

#include "backend/LLVMSupport.h"

namespace tlc {

namespace {

// LLVM's target registry is process-wide; registering NVPTX once is the only
// global state the backend touches (a function-local static makes it thread-safe).
const llvm::Target* nvptxTarget(std::string& error) {
  static const bool initialized = [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    return true;
  }();
  (void)initialized;
  return llvm::TargetRegistry::lookupTarget(kNVPTXTriple, error);
}

llvm::CodeGenOptLevel codeGenLevel(int optLevel) {
  switch (optLevel) {
    case 0: return llvm::CodeGenOptLevel::None;
    case 1: return llvm::CodeGenOptLevel::Less;
    case 2: return llvm::CodeGenOptLevel::Default;
    default: return llvm::CodeGenOptLevel::Aggressive;
  }
}

// LLVM passes of the default pipeline that find nothing to do in a tlc module
// (SkippedPasses.def says why for each).
constexpr std::string_view kSkippedPasses[] = {
#define TLC_SKIPPED_PASS(ClassName, Why) #ClassName,
#include "backend/SkippedPasses.def"
};

bool isSkippedPass(llvm::StringRef className) {
  for (std::string_view skipped : kSkippedPasses)
    if (className == llvm::StringRef(skipped.data(), skipped.size())) return true;
  return false;
}

}  // namespace

std::string llvmCPUFor(const std::string& arch) {
  const PTXRoute* route = retargetRouteFor(arch);
  return route ? route->llvmCPU : arch;
}

std::unique_ptr<llvm::TargetMachine> createNVPTXTargetMachine(const TargetOptions& target,
                                                              DiagnosticEngine& diags) {
  std::string error;
  const llvm::Target* nvptx = nvptxTarget(error);
  if (!nvptx) {
    diags.fatal("the LLVM NVPTX backend is not available: " + error);
    return nullptr;
  }
  // LLVM 19 knows CPUs up to sm_90a and PTX ISA up to 8.5. A newer target with a
  // route (Retarget.cpp) is generated for the route's plain base CPU. The CPU is
  // checked against the subtarget's table because createTargetMachine accepts any
  // string and only warns on stderr ("not a recognized processor").
  const std::string cpu = llvmCPUFor(target.arch);
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      nvptx->createMCSubtargetInfo(kNVPTXTriple, "", ""));
  if (cpu.rfind("sm_", 0) != 0 || !subtarget || !subtarget->isCPUStringValid(cpu)) {
    diags.fatal("target '" + target.arch +
                "' is not supported by this build's LLVM NVPTX backend (it writes sm_XX up to sm_90a; "
                "sm_100a goes through sm_90 PTX)");
    return nullptr;
  }
  // PTX 8.5 is the newest ISA LLVM 19 writes; sm_90a needs at least 8.0, and the
  // inline assembly of later features (TMA, mbarrier tx counts) wants the newest.
  const char* features = "+ptx85";
  llvm::TargetOptions options;
  // Contract a*b+c into fma like nvcc's default (-fmad=true): faster and no less
  // accurate. Without it NVPTX writes `add.rn`/`mul.rn`, which forbid ptxas to fuse.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(nvptx->createTargetMachine(
      kNVPTXTriple, cpu, features, options, std::nullopt, std::nullopt,
      codeGenLevel(target.optLevel)));
  if (!machine) diags.fatal("cannot create an LLVM NVPTX target machine for '" + target.arch + "'");
  return machine;
}

bool hasLoops(const llvm::Module& module) {
  for (const llvm::Function& function : module) {
    if (function.isDeclaration()) continue;
    llvm::SmallVector<std::pair<const llvm::BasicBlock*, const llvm::BasicBlock*>, 4> backEdges;
    llvm::FindFunctionBackedges(function, backEdges);
    if (!backEdges.empty()) return true;
  }
  return false;
}

std::vector<std::string> skippedPassNames() { return {std::begin(kSkippedPasses), std::end(kSkippedPasses)}; }

void optimizeModule(llvm::Module& module, llvm::TargetMachine& targetMachine, int optLevel,
                    OptimizerTrace* trace) {
  if (optLevel <= 0) return;
  llvm::LoopAnalysisManager loopAnalyses;
  llvm::FunctionAnalysisManager functionAnalyses;
  llvm::CGSCCAnalysisManager cgsccAnalyses;
  llvm::ModuleAnalysisManager moduleAnalyses;
  // Passing the TargetMachine lets NVPTX add its own passes (NVVMReflect, intrinsic
  // ranges) and gives the optimizer the target's cost model (TTI).
  // No loop vectorizer (nor its interleaving): lowering already gives every copy and
  // Parallel loop its vector width, and NVPTX's cost model left every output as it was
  // (scripts/compare_codegen.sh: 482 of 482 the same without it). It was a sixth of
  // the optimizer's time on tile_copy's rolled loops (opt-19 -O3 -time-passes): 4% of
  // the example's CPU time, 3% of a file of 100 kernels.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.LoopInterleaving = false;
  // LLVM's default pipeline, less the passes of SkippedPasses.def: an instrumentation
  // callback declines them by name where the pipeline reaches them, so every other
  // pass keeps the options and the place the default pipeline gives it.
  llvm::PassInstrumentationCallbacks instrumentation;
  instrumentation.registerShouldRunOptionalPassCallback(
      [](llvm::StringRef className, llvm::Any) { return !isSkippedPass(className); });
  if (trace) {
    instrumentation.registerShouldRunOptionalPassCallback([trace](llvm::StringRef className, llvm::Any) {
      trace->considered.emplace_back(className);
      return true;
    });
    instrumentation.registerBeforeNonSkippedPassCallback(
        [trace](llvm::StringRef className, llvm::Any) { trace->ran.emplace_back(className); });
  }
  llvm::PassBuilder passes(&targetMachine, tuning, std::nullopt, &instrumentation);
  passes.registerModuleAnalyses(moduleAnalyses);
  passes.registerCGSCCAnalyses(cgsccAnalyses);
  passes.registerFunctionAnalyses(functionAnalyses);
  passes.registerLoopAnalyses(loopAnalyses);
  passes.crossRegisterProxies(loopAnalyses, functionAnalyses, cgsccAnalyses, moduleAnalyses);
  // Loop-free kernels (every copy and Parallel loop unrolled by lowering, no serial
  // loop left) are straight-line code with guards: what O2/O3 add to O1 (loop
  // unrolling and vectorization, more rounds of instcombine and GVN, aggressive
  // IPO) finds nothing there and costs a third of the optimizer's time; O1 gives
  // the same PTX for every example (compared instruction by instruction when this
  // was chosen). Kernels with loops keep the requested level: batch_sum ran 1.22x
  // slower on the GPU when its loops missed O3's unrolling and LICM.
  const bool light = !hasLoops(module);
  llvm::OptimizationLevel level = optLevel == 1 || light ? llvm::OptimizationLevel::O1
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                                  : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager pipeline = passes.buildPerModuleDefaultPipeline(level);
  pipeline.run(module, moduleAnalyses);
}

std::string printPTX(llvm::Module& module, llvm::TargetMachine& targetMachine) {
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream stream(text);
  llvm::legacy::PassManager codegen;
  // Returns true when the target cannot emit this file type; NVPTX always can.
  bool cannotEmit = targetMachine.addPassesToEmitFile(codegen, stream, nullptr,
                                                      llvm::CodeGenFileType::AssemblyFile);
  TLC_ASSERT(!cannotEmit, "NVPTX cannot emit assembly");
  codegen.run(module);
  return std::string(text.str());
}

namespace {

// NVPTX numbers call sequences with a counter global to the process
// (GlobalUniqueCallSite in LLVM 19's NVPTXISelLowering.cpp), so the numbers in its
// `{ // callseq N, 0` ... `} // callseq N` comments followed whatever the process had
// compiled before and, with -j, the worker threads' timing: two kernel groups that
// call vprintf swapped numbers between runs. Renumbered here in order of appearance,
// so a module's PTX depends on the module alone.
void renumberCallSequences(std::string& ptx) {
  static const std::string mark = "// callseq ";
  std::map<std::string, std::string> renumbered;  // LLVM's number -> ours
  std::string out;
  out.reserve(ptx.size());
  size_t pos = 0;
  for (size_t at; (at = ptx.find(mark, pos)) != std::string::npos;) {
    size_t digits = at + mark.size(), end = digits;
    while (end < ptx.size() && std::isdigit(static_cast<unsigned char>(ptx[end]))) ++end;
    out.append(ptx, pos, digits - pos);
    const size_t next = renumbered.size();
    out += renumbered.try_emplace(ptx.substr(digits, end - digits), std::to_string(next)).first->second;
    pos = end;
  }
  out.append(ptx, pos, std::string::npos);
  ptx = std::move(out);
}

}  // namespace

std::optional<std::string> emitPTX(LLVMModule& module, const TargetOptions& target,
                                   DiagnosticEngine& diags) {
  TLC_ASSERT(module.impl && !module.impl->modules.empty(), "emitPTX on an empty LLVMModule");
  LLVMModule::Impl& impl = *module.impl;
  if (!impl.targetMachine || impl.targetMachine->getTargetCPU() != llvmCPUFor(target.arch)) {
    impl.targetMachine = createNVPTXTargetMachine(target, diags);
    if (!impl.targetMachine) return std::nullopt;
  }
  // At the Aggressive level (-O3) NVPTX's code generator runs GVN twice after its
  // straight-line scalar passes (SeparateConstOffsetFromGEP, SLSR, NaryReassociate);
  // at Default it runs EarlyCSE there instead, and its pass list differs in nothing
  // else (llc-19 -debug-pass=Structure). A module with no loop left after the optimizer
  // (hasLoops is asked again here: O3 may have unrolled one away) gets Default: every
  // spec example and benchmark configuration has the same
  // PTX (scripts/compare_codegen.sh: 437 of 465 outputs the same; the 28 others are
  // test kernels, goldens and ports, where GVN hoisted an address computation), and
  // axpy_fragment's code generation takes 34 ms instead of 59. Kernels with loops keep
  // GVN: it changes their PTX (batch_sum, tma_explicit, strided_compact). The modules'
  // PTX is joined into one PTX module, in source order.
  std::string ptx;
  for (const std::unique_ptr<llvm::Module>& part : impl.modules) {
    llvm::CodeGenOptLevel level = codeGenLevel(target.optLevel);
    if (level == llvm::CodeGenOptLevel::Aggressive && !hasLoops(*part)) level = llvm::CodeGenOptLevel::Default;
    impl.targetMachine->setOptLevel(level);
    std::string text = printPTX(*part, *impl.targetMachine);
    renumberCallSequences(text);
    appendPTXModule(ptx, text);
  }
  addClusterDirectives(ptx, impl.clusterShapes);
  if (const PTXRoute* route = retargetRouteFor(target.arch)) ptx = retargetPTX(ptx, *route, diags);
  return ptx;
}

void appendPTXModule(std::string& merged, const std::string& module) {
  if (merged.empty()) {
    merged = module;
    return;
  }
  // Every module tlc generates starts with LLVM's banner and the same three header
  // lines, then declares the dynamic shared memory, then its entries; -lineinfo adds
  // `.section .debug_loc { }` and `.file 1 "k.tl"` after the last entry's `}`.
  const std::string headerEnd = ".address_size 64\n";
  const std::string sharedDeclaration = ".extern .shared .align 1024 .b8 tlc_dynamic_shared[];\n";
  size_t bodyStart = module.find(headerEnd);
  TLC_ASSERT(bodyStart != std::string::npos, "a PTX module without .address_size");
  std::string body = module.substr(bodyStart + headerEnd.size());
  if (size_t shared = body.find(sharedDeclaration); shared != std::string::npos && merged.find(sharedDeclaration) != std::string::npos)
    body.erase(shared, sharedDeclaration.size());
  // The trailer of the modules so far goes: this module brings the same one.
  size_t lastEntryEnd = merged.rfind("\n}\n");
  if (lastEntryEnd != std::string::npos) merged.resize(lastEntryEnd + 3);
  merged += body;
}

void addClusterDirectives(std::string& ptx,
                          const std::vector<std::pair<std::string, std::array<int, 3>>>& clusterShapes) {
  for (const auto& [name, shape] : clusterShapes) {
    // The entry's performance directives sit between its parameter list and its
    // body's `{`; ptxas accepts them next to `.maxntid`. `.explicitcluster` says the
    // kernel must run in clusters (as nvcc writes for __cluster_dims__); LLVM 19 has
    // no annotation for either directive, so they are added to its output here.
    size_t entry = ptx.find(".entry " + name + "(");
    if (entry == std::string::npos) continue;
    size_t body = ptx.find("\n{", entry);
    TLC_ASSERT(body != std::string::npos, "PTX entry without a body");
    ptx.insert(body, "\n.explicitcluster\n.reqnctapercluster " + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + ", " +
                         std::to_string(shape[2]));
  }
}

}  // namespace tlc
