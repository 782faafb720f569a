// LayoutFragments: how each fragment is spread over the block's threads.
//
// Before: tile IR; fragments have no layout. After: every Fragment buffer has a
// FragmentLayout (ir/IR.h): the block's threads take `vec` consecutive elements
// each in turn, row-major over the fragment. `vec` is the widest access (up to 16
// bytes) that divides the fragment's innermost extent; fragments used together in
// one Parallel loop or copied into each other must share a layout, so each such
// group takes the smallest `vec` of its members. Because the layout depends only
// on the shape and the group, not on run-time facts, every kernel variant agrees
// on where each element lives.
//
// A fragment of another shape read in a Parallel loop with, along each axis, a loop
// variable, one floor-divided by a constant, or 0 (`s[i]`, `a[i, j // 32]` in
// Parallel(BM, BN)), reaching every element of it, is a broadcast: it is not grouped
// with the loop's fragments but takes the image of the loop's partition
// (FragmentLayout::isBroadcast), with the vec of the loop's fragments (1 if none);
// writing it there or two loops that would spread it differently are errors at the
// loop. Read otherwise (`u[i, j % 8]`, `s[0]`), it is staged first: the pass puts a
// copy of it into a new shared tile of its shape before the loop, the loop reads
// the tile instead, and a remark says so (InsertBarriers, later, adds the barrier);
// under a thread-dependent condition that is not yet supported (every thread copies
// its part).
//
// A fragment-to-fragment reduction (ReduceOp) along the innermost axis or axis 0,
// where the source's rows tile the threads in powers of two and dst is copied only
// whole, is marked `shuffle` and its dst
// takes the broadcast projection of the source's partition (every thread holding
// part of a row holds the row's result), unless a Parallel loop's broadcast already
// gave dst another layout; otherwise `why` says what ruled the shuffles out
// (ChooseReductions reads both).
//
// A view of a fragment (Buffer::viewOf) joins its fragment's group and keeps the
// plain layout with it: that layout places the flat row-major index by vec and
// threads alone, so both names agree on every element's thread and slot. Such a
// group takes no other: a loop_layout on it and a broadcast of a fragment that
// only meets it are located errors, its own broadcast reads are staged, and a
// reduction into it is not marked `shuffle` (its dst would be projected).
//
// A `loop_layout=L` on a copy or Parallel loop that touches a fragment gives the
// fragment's whole group layout L instead (FragmentLayout::custom), for every use
// in the kernel, annotated or not. The first annotated use in source order decides;
// a later annotated use with a different mapping is an error that names both.
#pragma once

#include "ir/IR.h"
#include "lower/LowerTileOps.h"
#include "support/Diagnostics.h"

namespace tlc {

// The widest power-of-two element count, at most `maxBytes` bytes of `dtype`, that
// divides `innerExtent`.
int widestVector(ir::DType dtype, int64_t innerExtent, int maxBytes = 16);

// Returns false after reporting an error (two loop_layouts disagree on a fragment).
// `notes` gets a remark for each fragment staged through shared memory.
bool layoutFragments(ir::Kernel& kernel, DiagnosticEngine& diags, std::vector<CopyLoweringNote>& notes);

}  // namespace tlc
