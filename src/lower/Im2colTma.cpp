// Im2colTma: see the header for the geometry; the limits are cuTensorMapEncodeIm2col's
// and the PTX ISA's for a rank-4 (NHWC) tensor.
#include "lower/Im2colTma.h"

namespace tlc {

std::string im2colTmaObstacle(const Im2colTmaShape& s) {
  auto str = [](int64_t v) { return std::to_string(v); };
  int64_t rowBytes = s.bk * s.elemBytes;
  if (rowBytes % 16 != 0)
    return "the column tile's rows are " + str(rowBytes) + " bytes; TMA's im2col mode loads channels in multiples of 16 bytes";
  if (s.bk > 256) return "BK = " + str(s.bk) + " channels per pixel; TMA's im2col mode loads at most 256";
  if (s.bm > 1024) return "BM = " + str(s.bm) + " pixels per load; TMA's im2col mode loads at most 1024";
  if (s.channels && *s.channels % s.bk != 0)
    return "C = " + str(*s.channels) + " is not a multiple of BK = " + str(s.bk) +
           ", so a tile's columns would span two filter taps (TMA's im2col mode loads one tap per copy)";
  if (s.stride > 8) return "the stride " + str(s.stride) + " exceeds 8, TMA's largest traversal stride";
  int64_t reach = s.dilation * (s.kernel - 1);  // the last tap's offset from the filter base
  if (reach > 255)
    return "the filter's last tap is " + str(reach) + " pixels from its base (D*(K-1)); im2col offsets of a 4-D "
           "tensor go up to 255";
  if (s.pad > 128)
    return "the padding " + str(s.pad) + " exceeds 128 (the bounding box's lower corner -P of a 4-D tensor is at least -128)";
  int64_t upper = s.pad - reach;
  if (upper < -128 || upper > 127)
    return "the bounding box's upper corner P - D*(K-1) = " + str(upper) + " is outside [-128, 127] (a 4-D tensor's range)";
  return "";
}

ir::Im2colMapInfo im2colTensorMap(const Im2colTmaShape& s) {
  ir::Im2colMapInfo m;
  int64_t reach = s.dilation * (s.kernel - 1);
  for (int axis = 0; axis < 2; ++axis) {  // W, H: the same square geometry
    m.lowerCorner[axis] = (int)-s.pad;
    m.upperCorner[axis] = (int)(s.pad - reach);
  }
  m.channels = (int)s.bk;
  m.pixels = (int)s.bm;
  m.stride = (int)s.stride;
  m.span = (int)(reach + 1);
  m.pad = (int)s.pad;
  return m;
}

}  // namespace tlc
