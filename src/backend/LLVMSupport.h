// LLVMSupport: what the backend's steps (Codegen, PTX) share behind Backend.h.
//
// Kept out of Backend.h so that LLVM headers never leak into the other phases:
// the definition of LLVMModule::Impl and the one place that builds an NVPTX
// TargetMachine for a TargetOptions.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "backend/Backend.h"

namespace tlc {

struct LLVMModule::Impl {
  // Member order matters: the modules must die before the context that owns their types.
  llvm::LLVMContext context;
  // In source order: a module for each source kernel (its variants together) whose
  // code has loops, and one for each run of neighbours without. Each is optimized and
  // code-generated at the level its own code asks for (PTX.cpp: O3 only where loops
  // remain), so a kernel's PTX is the one it has in a file of its own (labels aside),
  // whatever else its group of kernels holds. A module without kernels has one, empty.
  std::vector<std::unique_ptr<llvm::Module>> modules;
  std::unique_ptr<llvm::TargetMachine> targetMachine;
  // Kernels launched in thread-block clusters: entry name -> cluster shape. LLVM 19
  // ignores the cluster_dim_* annotations, so emitPTX writes `.reqnctapercluster`.
  std::vector<std::pair<std::string, std::array<int, 3>>> clusterShapes;
};

inline constexpr const char* kNVPTXTriple = "nvptx64-nvidia-cuda";

// The CPU LLVM generates for: `arch` itself, or its route's base CPU (sm_100a -> sm_90).
std::string llvmCPUFor(const std::string& arch);

// Whether any function of `module` has a cycle in its control flow (a serial loop
// lowering or the user kept rolled): such a module gets O3, the others O1 (PTX.cpp).
bool hasLoops(const llvm::Module& module);

// An NVPTX TargetMachine for `target.arch` at `target.optLevel`. Reports an
// unsupported arch through `diags.fatal` and returns null.
std::unique_ptr<llvm::TargetMachine> createNVPTXTargetMachine(const TargetOptions& target,
                                                              DiagnosticEngine& diags);

// Which passes optimizeModule's pipeline reached (`considered`) and which of them
// ran, by class name in order: for tests of SkippedPasses.def.
struct OptimizerTrace {
  std::vector<std::string> considered;
  std::vector<std::string> ran;
};

// Runs LLVM's default module pipeline (O1 for a module without loops, else O1..O3 as
// asked) on `module`, less the passes of SkippedPasses.def; O0 runs nothing. With a
// `trace`, records the passes as above.
void optimizeModule(llvm::Module& module, llvm::TargetMachine& targetMachine, int optLevel,
                    OptimizerTrace* trace = nullptr);

// The class names of the passes SkippedPasses.def lists.
std::vector<std::string> skippedPassNames();

// Marks kernel arguments `argNos` (0-based) as 128-byte tensor maps passed by value
// as `__grid_constant__`: byval [128 x i8] align 64 plus the "grid_constant"
// annotation, without which LLVM copies the argument to local memory and PTX
// would see a local address (toolchain.md finding 9).
void markGridConstantParams(llvm::Function& kernel, const std::vector<unsigned>& argNos);

// Adds `.reqnctapercluster X, Y, Z` to the named entries' directives in `ptx`.
void addClusterDirectives(std::string& ptx,
                          const std::vector<std::pair<std::string, std::array<int, 3>>>& clusterShapes);

// PTX text for `module` (assembly printer of `targetMachine`).
std::string printPTX(llvm::Module& module, llvm::TargetMachine& targetMachine);

}  // namespace tlc
