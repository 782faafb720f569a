// ChooseReductions: each fragment reduction's lowering, as LayoutFragments decided it.
//
// Before: tile IR with fragment layouts; every ReduceOp has its fallback and is
// marked `shuffle` or not (LayoutFragments). After: a ReduceOp not marked is
// replaced by its fallback (Parallel loops through shared scratch tiles); a marked
// one has no fallback, and the scratch tiles no statement uses any more are gone
// from the allocations. A marked reduction whose rows span several warps is two
// ReduceOps, WarpPartials (each warp's partial of each row into `scratch`, a new
// shared (slots, warps) tile of the accumulator type) and FoldWarps (their fold into
// dst), so that InsertBarriers puts a barrier between them. Runs before
// PlanSharedMemory. One note per reduction says which lowering it got and why.
#pragma once

#include <vector>

#include "ir/IR.h"
#include "lower/LowerTileOps.h"

namespace tlc {

// How a shuffle reduction (ReduceOp::shuffle, along the innermost axis or axis 0)
// spreads over the threads. Rows (the innermost axis): the source's M rows of G = N / vec groups each, in the layout's
// round-robin over T threads. Either G divides T (a row is G consecutive threads at
// one iteration: one slot per iteration) or T divides G (a row is G / T iterations
// of every thread: one slot per row).
struct ShuffleReductionPlan {
  int threads = 0, vec = 1;
  int64_t rows = 0, rowGroups = 0;
  int64_t iterations = 0;     // of the source's partition: ceil(M G / T)
  bool guard = false;         // the last iteration has threads without a group
  int64_t slots = 0;          // results per thread: iterations (G | T) or rows (T | G)
  int64_t iterationsPerSlot = 1;  // 1, or G / T
  int lanesPerRow = 1;        // the lanes of a warp that share a row: the butterfly's span
  int warpsPerRow = 1;        // > 1: a row spans warps (a shared step)
  // dim 0 (columns): the source is (K, B) (B the product of the other axes), G = B /
  // vec groups a k. G divides T: every iteration gives thread t column group t % G,
  // shared by the lanes t % G + G s of its warp (butterfly masks G .. 16) and by
  // `partials` = T / max(G, 32) warps (or thread groups) in all; T divides G: thread
  // t holds its own column groups (those of iterations j, j + G / T, ...), no shuffle.
  bool columns = false;
  int64_t width = 0;          // columns: B
  int partials = 1;           // columns: > 1 when a shared step combines warps
  int64_t scratchRows = 0;    // the shared step's tile: (scratchRows, scratchCols)
  int64_t scratchCols = 0;
};
ShuffleReductionPlan shuffleReductionPlan(const ir::ReduceOp& r);

void chooseReductions(ir::Kernel& kernel, std::vector<CopyLoweringNote>& notes);

}  // namespace tlc
