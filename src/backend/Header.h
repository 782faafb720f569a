// Header: the C launcher header (`--emit=header`).
//
// Before: the loop-IR module and its cubin. After: the text of one self-contained C
// header (C11 and C++17, -Wall -Wextra -Werror clean) that embeds the cubin and
// gives, per source kernel, a typed launch function returning CUresult, a
// thread-safe lazy load and an unload. It never prints and never exits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tlc {

struct HeaderOptions {
  std::string prefix;      // C symbol prefix, e.g. "tile_copy" from tile_copy.tl
  std::string kernelPrefix;  // before each kernel's functions ("" or e.g. "mylib_")
  std::string sourceName;  // the .tl file's name as given, recorded in a comment
  std::string arch = "sm_90a";
  // Single: one self-contained header, every function `static inline` (the default).
  // PairHeader / PairSource: `--emit=header,source`: the header declares the public
  // functions (external linkage) and the source file defines them, with the cubin and
  // one module state for the whole program.
  enum class Mode { Single, PairHeader, PairSource } mode = Mode::Single;
  std::string headerInclude;  // PairSource: the header's file name, #included first
  // --nvtx: each <kernel>_launch is an NVTX range named after the kernel (NVTX 3,
  // header-only from the CUDA toolkit's include/nvtx3: no library to link; the calls
  // cost nothing measurable unless a profiler such as Nsight Systems is attached).
  bool nvtx = false;
};

std::string generateHeader(const ir::Module& loopIR, const std::vector<uint8_t>& cubin,
                           const HeaderOptions& options);

// One build per architecture (options.arch is ignored): each architecture's own
// loop IR (its variants, parameters and launch rules: lowering chose what that
// target has) and its cubin. The header embeds every cubin, loads the one that fits
// the current device and launches that architecture's variants only. The
// architectures' kernels must come from one source: the same source kernels in the
// same order, with the same launcher arguments. A single entry gives exactly the
// header of the overload above.
struct ArchBuild {
  std::string arch;              // "sm_90a"
  const ir::Module* loopIR = nullptr;
  std::vector<uint8_t> cubin;
};
std::string generateMultiArchHeader(const std::vector<ArchBuild>& builds, const HeaderOptions& options);

}  // namespace tlc
