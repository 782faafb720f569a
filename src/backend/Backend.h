// Backend: loop IR -> LLVM module (NVPTX) -> PTX -> cubin.
//
// Before: a loop-IR module (ir::verifyLoopIR holds). After, per step: LLVM modules
// for nvptx64-nvidia-cuda (one per source kernel with loops, one per run of neighbours
// without; LLVMSupport.h) with one `.entry` per kernel variant (params in
// ir::Kernel::params order, `.maxntid` = threads, dynamic shared memory as an extern
// addrspace(3) array); PTX text for the chosen arch; a cubin assembled by the CUDA
// toolkit's ptxas and nvlink (Cubin.cpp). Failures are reported through the DiagnosticEngine (toolchain
// failures via `fatal`) and yield an empty result.
//
// Kernel ABI (what a launcher passes, in ir::Kernel::params order): Pointer -> a
// 64-bit global address (`.param .u64`); Dim -> int32 (`.u32`); Scalar -> its
// dtype (float32 `.f32`, float16/bfloat16 `.b16`, int64 `.u64`, bool one byte
// `.u8`, fp8 one byte). Dynamic shared memory is the module's one extern array
// `tlc_dynamic_shared` (align 1024): the launcher sets Kernel::dynamicSharedBytes.
// A kernel with a cluster shape other than 1x1x1 carries `.reqnctapercluster`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {

struct TargetOptions {
  std::string arch = "sm_90a";  // sm_90a (default), sm_90, sm_100a ...
  int optLevel = 3;             // -O0 .. -O3
  // -lineinfo: `.file`/`.loc` directives in the PTX naming `sourceName` (the .tl file
  // as given), and ptxas (-lineinfo) keeps them as the cubin's line table.
  bool lineInfo = false;
  std::string sourceName;
};

// A target LLVM 19 cannot write (Retarget.cpp): LLVM generates PTX for `llvmCPU`
// at ISA `llvmPTXVersion`, and retargetPTX rewrites the header to `.version
// ptxVersion` / `.target arch`.
struct PTXRoute {
  const char* arch;            // "sm_100a"
  const char* llvmCPU;         // "sm_90": the plain target, no arch-specific features
  const char* llvmPTXVersion;  // "8.5": what LLVM writes for it
  const char* ptxVersion;      // "8.6": the lowest ISA that has `arch` and what we emit for it
};
// The route for `arch`, or null when LLVM writes it directly (or not at all).
const PTXRoute* retargetRouteFor(const std::string& arch);
// The first instruction in `ptx` specific to sm_90a (wgmma.*, setmaxnreg.*), if any.
std::optional<std::string> findArchSpecificInstruction(const std::string& ptx);
// The backend step that takes PTX written for route.llvmCPU to route.arch: checks that
// it uses nothing sm_90a-specific (else an internal error: a compiler bug) and swaps
// its `.version` and `.target` lines. Everything else is left byte for byte.
std::string retargetPTX(const std::string& ptx, const PTXRoute& route, DiagnosticEngine& diags);

// The LLVM modules of a loop-IR module with their own context, kept opaque so LLVM
// headers stay in src/backend.
class LLVMModule {
 public:
  ~LLVMModule();
  std::string text() const;  // `--emit=llvm`
  struct Impl;
  std::unique_ptr<Impl> impl;
};

// The returned module is verified and already optimized at target.optLevel, so
// `--emit=llvm` shows the IR the PTX is made from. Unknown archs are a fatal error.
std::unique_ptr<LLVMModule> generateLLVM(const ir::Module& loopIR, const TargetOptions& target,
                                         DiagnosticEngine& diags);
std::optional<std::string> emitPTX(LLVMModule& module, const TargetOptions& target,
                                   DiagnosticEngine& diags);
// `ptxas -arch=<arch> -O0|-O3 -c` and nvlink on one PTX module (CubinAssembler).
std::optional<std::vector<uint8_t>> assembleCubin(const std::string& ptx, const TargetOptions& target,
                                                  DiagnosticEngine& diags);

// One cubin from several PTX modules (batches of kernels), added one at a time: each
// is written to a temporary file and compiled by a ptxas process of its own (-c: a
// relocatable object) while the caller goes on, at most `parallelism` at once; finish
// waits for them and links the objects with nvlink. The caller frees each text at
// once. The cubin depends only on the modules and their order, not on
// `parallelism`. The toolkit is looked for at the first add (a build that fails
// before needs no CUDA). After an add that returns false (a diagnostic says why),
// the assembler takes nothing more.
class CubinAssembler {
 public:
  explicit CubinAssembler(TargetOptions target, unsigned parallelism = 1);
  ~CubinAssembler();
  CubinAssembler(const CubinAssembler&) = delete;
  CubinAssembler& operator=(const CubinAssembler&) = delete;
  // `name` names the module in ptxas's messages (instead of the temporary file).
  bool add(const std::string& ptx, const std::string& name, DiagnosticEngine& diags);
  // Links what was added (at least one module), or assembles the file's one batch
  // whole-program when it uses ptxas's slow-path calls (Cubin.cpp says why). Each
  // entry's resources become a remark (`--remarks`), in the order of `entryOrder`
  // (the variants' names in source order).
  std::optional<std::vector<uint8_t>> finish(DiagnosticEngine& diags, const std::vector<std::string>& entryOrder = {});

 private:
  struct Impl;
  struct PendingBatch;
  bool start(DiagnosticEngine& diags);
  bool startRelocatable(const PendingBatch& batch, DiagnosticEngine& diags);
  bool finishOldest(DiagnosticEngine& diags, std::string* logOut = nullptr);
  TargetOptions target_;
  unsigned parallelism_;
  std::unique_ptr<Impl> impl_;
};

// For `tlc --version`: the ptxas a cubin would be assembled with now and its release
// ("/usr/local/cuda/bin/ptxas (Cuda compilation tools, release 13.0, V13.0.88)"), or
// where it was looked for. The cubin's bytes depend on it, so it is worth showing.
std::string describeAssembler();

// `--emit=ptx` of a file of several kernels, each generated as a module of its own:
// appends `module` to `merged` so that `merged` stays one PTX module that ptxas
// accepts (one .version/.target/.address_size header, the dynamic shared memory
// declared once, -lineinfo's trailing .file/.section lines once, at the end).
void appendPTXModule(std::string& merged, const std::string& module);

// Test probe for the grid-constant mechanism that TMA tensor maps will use: PTX of
// a tiny kernel whose second parameter is a 128-byte tensor map passed by value
// (byval [128 x i8] align 64) and handed to `prefetch.tensormap` by address. With
// the "grid_constant" annotation the PTX takes the parameter's address
// (cvta.param); without it LLVM first copies the parameter to __local_depot.
std::optional<std::string> emitGridConstantProbePTX(bool annotateGridConstant, DiagnosticEngine& diags);

}  // namespace tlc
