// im2col_reference.h: the convolution geometry and the CPU reference shared by the
// im2col GPU test (tests/gpu/im2col.cpp) and its benchmark (bench/tlc/im2col.cpp).
//
// The image's shape is compiled into the kernel, so the build scripts pass the same
// values to tlc (-D NB=...) and, as IM_NB, IM_H, ..., to the host program; the
// defaults are those of the spec's im2col.tl. The column matrix of an NHWC float16
// image is
//   col[(n*OH + oh)*OW + ow, (kh*KW + kw)*C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// and zero (+0.0 in fp16) where that pixel is outside the image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#ifndef IM_NB
#define IM_NB 8
#endif
#ifndef IM_H
#define IM_H 56
#endif
#ifndef IM_W
#define IM_W 56
#endif
#ifndef IM_C
#define IM_C 64
#endif
#ifndef IM_KW
#define IM_KW 3
#endif
#ifndef IM_S
#define IM_S 1
#endif
#ifndef IM_D
#define IM_D 1
#endif
#ifndef IM_P
#define IM_P 1
#endif

namespace im2col {

constexpr int NB = IM_NB, H = IM_H, W = IM_W, C = IM_C, KW = IM_KW, S = IM_S, D = IM_D, P = IM_P;
constexpr int OH = (H + 2 * P - D * (KW - 1) - 1) / S + 1, OW = (W + 2 * P - D * (KW - 1) - 1) / S + 1;
// Elements of the image, rows and columns of the column matrix.
constexpr size_t kImageCount = size_t(NB) * H * W * C, kRows = size_t(NB) * OH * OW, kCols = size_t(KW) * KW * C;

// The column matrix of `img` (kImageCount fp16 bits), straight from the definition.
inline std::vector<uint16_t> reference(const std::vector<uint16_t>& img) {
  std::vector<uint16_t> want(kRows * kCols);
  for (int n = 0; n < NB; ++n)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int kh = 0; kh < KW; ++kh)
          for (int kw = 0; kw < KW; ++kw)
            for (int c = 0; c < C; ++c) {
              const int ih = oh * S - P + kh * D, iw = ow * S - P + kw * D;
              const size_t row = (size_t(n) * OH + oh) * OW + ow, k = (size_t(kh) * KW + kw) * C + c;
              want[row * kCols + k] = (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                          ? uint16_t(0)
                                          : img[((size_t(n) * H + ih) * W + iw) * C + c];
            }
  return want;
}

}  // namespace im2col
