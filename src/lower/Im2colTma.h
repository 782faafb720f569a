// Im2colTma: whether TMA's im2col mode (cuTensorMapEncodeIm2col +
// cp.async.bulk.tensor.4d...im2col) can carry out an im2col copy, and the tensor
// map that does it.
//
// One load fills the whole (BM, BK) column tile: BM filter bases (output pixels,
// walked W first, then H, then N, `stride` apart inside the bounding box of bases)
// times BK channels of one filter tap (kh, kw), which the instruction's im2col
// offsets (kw*D, kh*D) select. So the tile's BK columns must lie inside one tap: BK
// divides C. The bounding box of filter bases runs from -P to (size - 1) + P - D*(K-1)
// on both axes, which makes the number of bases per row OW (and per column OH) for
// any stride; pixels outside the image, and rows past the last output pixel (which
// walk into image N, outside the tensor), read TMA's out-of-bounds zeros.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ir/IR.h"

namespace tlc {

struct Im2colTmaShape {
  int64_t kernel = 1, stride = 1, dilation = 1, pad = 0;
  int64_t bm = 0, bk = 0;           // the column tile
  int elemBytes = 2;
  std::optional<int64_t> channels;  // C, when it is a constant
};

// Why TMA's im2col mode cannot load this tile, or "" when it can. Static facts only;
// the run-time ones (a 16-byte aligned image, strides multiples of 16 bytes, a
// symbolic C a multiple of BK) become assumptions of the fast variant.
std::string im2colTmaObstacle(const Im2colTmaShape& shape);

// The tensor map's im2col parameters (im2colTmaObstacle(shape) must be "").
ir::Im2colMapInfo im2colTensorMap(const Im2colTmaShape& shape);

}  // namespace tlc
