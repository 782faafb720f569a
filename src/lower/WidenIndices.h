// WidenIndices: index arithmetic in 64 bits where 32 bits can overflow.
//
// Before: loop IR (after FlattenBufferAccess). Sema makes indices, shape entries and
// grid extents int32 (`cast<int32>`), and integer operations stay int32 unless an
// operand is int64, so `k * (N * M)`, `bx * 1000 + tid` or a uint32 extent wrap in
// 32 bits although the launcher computes shapes and grids in 64 bits.
// After: every integer expression of the body has been given a value range (an
// interval) from what bounds its leaves: a Dim's type (int32 dims are 0 .. 2^31 - 1,
// the launcher refuses negative ones), other integer parameters' types, threadIdx
// (the block's threads), blockIdx (the grid's range, at most the device's limits,
// which the launcher enforces), loop variables (their bounds), locals never assigned
// (their first value). Each 8-, 16- or 32-bit arithmetic node whose range leaves its
// type is computed in int64 instead, and so is an int32 cast of a value outside int32
// (sema's index coercion: the launcher's 64-bit shape arithmetic means the value,
// not its truncation). Comparisons with a widened side compare in int64. A widened
// value that reaches a place whose type is fixed (a shared or local index, a TMA
// coordinate, a local's value) is cast back to that type: there it means what it
// meant before. Such a place needs its value only modulo 2^32, and so do the
// operands of +, -, *, &, |, ^ beneath it: those keep wrapping in 32 bits; what a
// division, a comparison or a 64-bit offset reads is widened. `x + k < y` whose sum
// alone passes int32 becomes `x < y - k`; the then-branch of `v < e` (v a loop
// variable or threadIdx.x) narrows v. Nodes whose range fits keep their width and
// their identity, so a kernel whose indices are proven small is unchanged
// (byte-identical PTX).
// A uint64 parameter the body's integer arithmetic reads (an extent, as a rule) is
// taken to be at most 2^63 - 1 (int64 arithmetic); that becomes a
// Kernel::argumentBounds entry, which the launcher checks.
// Ranges past 64 bits (products of int64 dimensions) are not widened further.
#pragma once

#include "ir/IR.h"

namespace tlc {

void widenIndices(ir::Kernel& kernel);

}  // namespace tlc
