// TmaConstraints: what a TMA copy (cp.async.bulk.tensor) needs of a copy, shared by
// the TMA strategies (TmaLoad, TmaStore, UserTma, Multicast, Im2colTma) and
// LowerTileOps' tensor-map intrinsics. Static facts only; the run-time ones (a
// 16-byte aligned base, strides that are multiples of 16 bytes) are assumptions
// (tensorMapStrides).
#pragma once

#include <optional>
#include <string>

#include "ir/IR.h"
#include "lower/copy/Assumptions.h"

namespace tlc {

// The CUtensorMap data type for `t`, or false when TMA cannot move it.
bool tensorMapDataType(ir::DType t, const char** cuName);

// Why TMA cannot write or read shared tile `s` in its layout, or "".
std::string layoutObstacle(const ir::Buffer& s);

// Why `c` cannot be a TMA copy between global and shared memory (static
// constraints of the two sides only), or "". With `user` (tma_copy, UserTma) the
// shared side may be a dense part of a plain tile starting 128-byte aligned, and
// the innermost extent may pass 256 (rows: tmaRows).
std::string tmaObstacle(const ir::CopyOp& c, bool user = false);

// tma_copy of rows longer than a TMA box (innermost extent past 256): each row is
// one cp.async.bulk where it lies inside the tensor and starts 16-byte aligned, else
// it is loaded through the tensor map in pieces of `piece` elements (and a last
// piece of `rest`, 0 when `piece` divides the row). Null when the box fits, or
// with `why` set when the rows cannot be copied so.
struct TmaRows {
  int64_t rows = 1;       // the product of the other extents
  int64_t length = 0;     // elements in a row
  int64_t piece = 0, rest = 0;
};
std::optional<TmaRows> tmaRows(const ir::CopyOp& c, std::string& why);

// Why neither TMA nor cp.async may read `c`'s source, or "": both fill what lies
// outside the tensor with zeros, and a non-zero safe value needs another value there.
std::string zeroFillObstacle(const ir::CopyOp& c);

// The tensor map of `tensor` needs a 16-byte aligned base and strides that are
// multiples of 16 bytes (`align`: 32 for 16U4_ALIGN16B): records them in `need`
// (inner strides first, so one fact serves them all) and returns -1, or returns the
// first axis whose stride cannot be.
int tensorMapStrides(const ir::Kernel& kernel, bool allowAssumptions, const ir::Buffer& tensor, AssumptionMap& need,
                     int align = 16);

}  // namespace tlc
