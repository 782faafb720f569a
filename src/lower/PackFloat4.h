// PackFloat4: float4_e2m1fn buffers become the bytes they are stored in.
//
// fp4 is packed two elements to a byte: element k of a row (the last axis) lives
// in byte k / 2 of that row, the even element in the low nibble (PyTorch's
// float4_e2m1fn_x2, the OCP MX layout).
//
// Before: buffers (global tensors, tiles, fragments, locals) may have dtype
// Float4E2M1; sema has checked that every fp4 copy moves whole bytes where that is
// known at compile time (even innermost extents and starts, even tile rows).
// After: no buffer has dtype Float4E2M1. Each is replaced by a uint8 "byte twin"
// (same name, data and scope; the last axis halved; outer strides halved). So:
//  - a copy of fp4 regions is a copy of uint8 regions (innermost start and extent
//    halved), and every copy path (TMA with a uint8 tensor map, cp.async, SIMT)
//    moves it unchanged;
//  - an element load T[.., j] reads byte j / 2 and takes nibble j % 2, as a
//    Float4E2M1 value (Builtin::Fp4FromBits) that only a cast consumes;
//  - an element store writes a nibble. Two threads storing the two halves of one
//    byte by read-modify-writes of the byte would race, so a Parallel loop that
//    stores fp4 elements is split where it can be: each thread runs the iterations
//    j = 2m and 2m + 1 of its innermost variable one after the other, and a store
//    whose last index is that variable plus an even offset (every other loop
//    variable with an index of its own, no condition that could select one half)
//    stays a plain read-modify-write of its byte. Every other fp4 store (outside a
//    Parallel loop, other index forms, one-sided conditions, loops that cannot be
//    split) becomes an atomic update of its nibble (StoreStmt::bitMask).
//  - the kernel's requirements say what only the launch can check: an fp4 global
//    tensor's last dimension and row strides are even (the launcher refuses others).
#pragma once

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {

// False (with errors reported) when the kernel uses fp4 in a way that is not
// supported (element accesses to fp4 fragments, odd or unprovable copy and fill
// regions, fp4 buffers of rank 0 or with a last-axis stride other than 1).
bool packFloat4(ir::Kernel& kernel, DiagnosticEngine& diags);

}  // namespace tlc
