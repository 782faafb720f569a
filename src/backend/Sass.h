// Sass: `--emit=sass`, the cubin's machine code and each kernel's resource usage,
// from the CUDA toolkit's disassembler.
//
// Before: an assembled cubin. After: text: a summary of every entry's resources
// (registers, stack, shared, local memory; `cuobjdump -res-usage`), then the SASS
// (`cuobjdump -sass`, or `nvdisasm -c` where only nvdisasm is installed). The tools
// are not part of tlc: they are found as $TLC_CUOBJDUMP / $TLC_NVDISASM, else in
// $CUDA_HOME/bin, /usr/local/cuda/bin, then on the PATH; run without a shell, with
// the cubin in a temporary file that is removed afterwards. tlc never needs them for
// anything else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlc {

// The listing, or nullopt with `error` saying what failed (no tool found: which
// were looked for and where; a tool that failed: its status and output).
std::optional<std::string> disassembleCubin(const std::vector<uint8_t>& cubin, std::string& error);

}  // namespace tlc
