// LayoutSharedTiles: where the elements of each shared tile sit in memory.
//
// Before: tile IR; every shared tile is row-major (SharedLayout{}). After: the
// destination of each `transpose` carries an XOR swizzle (ir::SharedLayout) that
// makes the transpose's column-wise writes bank-conflict free while row-wise
// readers (SIMT and cp.async copies, a later transpose) stay conflict free; every
// other tile stays row-major, and so does a transpose destination that has a view
// or is one (Buffer::viewOf: both names read the bytes row-major). The layout is a property of the tile: every access
// to it, whichever op makes it, goes through ir::sharedElementOffset, and TMA, which
// cannot express this swizzle, is not used on such a tile (ChooseCopyPaths).
//
// The transpose's plan lives here too, so that the layout and the lowering
// (LowerTileOps) agree on it: each thread moves a V x V micro-block, reading V
// row vectors of V elements from the source, transposing them in registers and
// writing V row vectors into the destination. Micro-block b goes to thread
// b % threads: consecutive threads take consecutive column blocks of one block
// row, so the threads of one shared-memory phase read consecutive pieces of the
// same source rows (conflict free), and write one piece in each of V*phase rows
// of the destination, whose keys (row / V) differ: the swizzle spreads them over
// distinct banks.
#pragma once

#include "ir/IR.h"

namespace tlc {

struct TransposePlan {
  int vec = 1;            // V: micro-block side, elements per vector access
  int64_t batch = 1;      // product of the leading axes
  int64_t rowBlocks = 1;  // M / V (source rows)
  int64_t colBlocks = 1;  // N / V (source columns)
  int64_t blocks() const { return batch * rowBlocks * colBlocks; }
};

// V is the widest vector (at most 16 bytes) dividing M and N that still gives
// every thread a micro-block; 1 when none does. `maxVec` (0: none) caps it where a
// tile's swizzle keeps only shorter pieces contiguous.
TransposePlan planTranspose(ir::DType dtype, const std::vector<int64_t>& srcShape, int threads, int maxVec = 0);
// The cap for transposing `src` into `dst`: the pieces of whichever is swizzled.
int transposeVecLimit(const ir::Buffer& src, const ir::Buffer& dst);
// The cap for the transpose `c`, of whole tiles or of parts of them: also the
// largest power of two dividing each side's first column and row stride, so that
// every vector starts on a multiple of its width (0: no cap).
int transposeVecLimit(const ir::CopyOp& c);

// The swizzle of a transpose's destination (rows of `dstRowElems` elements).
ir::SharedLayout transposeDstLayout(const TransposePlan& plan, ir::DType dtype, int64_t dstRowElems);

void layoutSharedTiles(ir::Kernel& kernel);

}  // namespace tlc
