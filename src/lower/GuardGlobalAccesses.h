// GuardGlobalAccesses: every element access of a global buffer is in bounds, by
// proof or by predicate (TileLang's LegalizeSafeMemoryAccess does the same job).
//
// Before: loop IR whose Loads and Stores still index buffers per axis (after
// LowerTileOps, before FlattenBufferAccess). Copies came with predicates of their
// own; element accesses written by the user (`S[by * 16 + i]` in a Parallel loop,
// `B[i] = ...` in scalar code) may have none.
// After: every Load and Store of a Global buffer (tensor parameters, make_tensor
// and pointer views alike: all are Global buffers with a shape) has
// `boundsChecked` set, and for each axis either a proof that 0 <= index < extent
// or that bound conjoined to its `predicate`. A load whose predicate fails reads
// the buffer's safe value (`annotate_safe_value`, else 0); a store is skipped. On
// the innermost axis a vector of `lanes` elements must fit whole.
//
// The proof is symbolic and deliberately small (when unsure, guard): linear forms
// with constant coefficients over the kernel's integer parameters and
// ceildiv(parameter, T) terms, with ranges for threadIdx (0 .. threads-1),
// blockIdx (0 .. grid-1, a grid of ceildiv(E, T) giving blockIdx*T <= E-1, or
// E-T where the variant assumes E % T == 0), loop variables (their bounds) and
// locals given one value; `>>`, `&`, `//`, `%` by constants on numeric ranges;
// and matching against the facts that hold at the access: the enclosing `if`
// conditions (the else branch: the negation), the access's own predicate, and a
// select's condition inside the index itself. A select's arms are both evaluated,
// so its condition never guards a load in an arm. Facts naming a local that is
// ever reassigned are not used. A guard added never changes a value read in
// bounds; it only replaces reads (and skips writes) that would fall outside.
//
// Shared and local buffers are not guarded (their accesses come from the tile
// lowering or from indices sema checked); an index that lies wholly outside a
// constant extent there (a constant one, or one whose every value does) is an
// internal error.
#pragma once

#include "ir/IR.h"
#include "support/Diagnostics.h"

namespace tlc {

void guardGlobalAccesses(ir::Kernel& kernel, DiagnosticEngine& diags);

}  // namespace tlc
