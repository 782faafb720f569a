// ChooseCopyPaths: which instruction family carries out each copy.
//
// Before: tile IR, every CopyOp's path Undecided. After: each CopyOp is TmaLoad
// (global -> shared), TmaStore (shared -> global), CpAsync or Simt, and a copy
// that could have been TMA but is not carries the reason (for --remarks).
// By default (measured, docs/performance.md): a load directly in a Pipelined
// loop's body is TMA, another global -> shared load is cp.async, a store is SIMT.
// `prefer_instruction="tma"` asks for TMA, which its static constraints allow when
// the shared side is a whole tile, both
// sides have the same dtype, the tensor's innermost stride is 1, every box extent
// is at most 256 (the outermost may be split), the innermost box is a multiple of
// 16 bytes, rank <= 5, and every thread reaches the copy (its conditions do not
// depend on the thread). Run-time constraints (16-byte aligned base, strides that
// are multiples of 16 bytes) become the variant's assumptions in LowerTileOps.
// `prefer_instruction="sync"` and `disable_tma` force SIMT; `"tma"` makes a copy
// that cannot use TMA an error that says why, except where the obstacle is the
// shared tile's layout (a transpose's swizzle, padding, a TMA swizzle over rows of
// another width than its span): the copy then takes cp.async or SIMT and the
// remark says why. A tile annotated swizzled(t, S) with rows of exactly S bytes
// (and whole 8-row periods) is copied by TMA with the matching swizzle mode.
// A copy with `loop_layout=` is never TMA (one thread issues a TMA copy; there is no
// per-thread mapping to follow); cp.async, a per-thread instruction, may follow it.
// A copy reading a tensor with a non-zero safe value (annotate_safe_value) is
// neither TMA nor cp.async, which both zero-fill past the tensor's end: it is SIMT.
// An im2col copy is CpAsync (TMA's im2col mode is not implemented yet; the remark
// says so); its padding is zero whatever the image's safe value.
#pragma once

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {

struct CopyPathOptions {
  bool allowTma = true;  // false for the general (SIMT-only) kernel variant
};

// Returns false after reporting an error.
bool chooseCopyPaths(ir::Kernel& kernel, const CopyPathOptions& options, DiagnosticEngine& diags);

// Why TMA cannot write or read shared tile `s` in its layout, or "".
std::string layoutObstacle(const ir::Buffer& s);

// The CUtensorMap data type for `t`, or false when TMA cannot move it.
bool tensorMapDataType(ir::DType t, const char** cuName);

}  // namespace tlc
