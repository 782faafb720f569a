// TmaConstraints: what a TMA copy (cp.async.bulk.tensor) needs of a copy, shared by
// the TMA strategies (TmaLoad, TmaStore, UserTma, Multicast, Im2colTma) and
// LowerTileOps' tensor-map intrinsics. Static facts only; the run-time ones (a
// 16-byte aligned base, strides that are multiples of 16 bytes) are assumptions
// (tensorMapStrides).
#pragma once

#include <string>

#include "ir/IR.h"
#include "lower/copy/Assumptions.h"

namespace tlc {

// The CUtensorMap data type for `t`, or false when TMA cannot move it.
bool tensorMapDataType(ir::DType t, const char** cuName);

// Why TMA cannot write or read shared tile `s` in its layout, or "".
std::string layoutObstacle(const ir::Buffer& s);

// Why `c` cannot be a TMA copy between global and shared memory (static
// constraints of the two sides only), or "".
std::string tmaObstacle(const ir::CopyOp& c);

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
