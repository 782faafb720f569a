// im2col.cpp: the column matrix of an implicit-GEMM convolution from an NHWC float16
// image, with tlc's unfold (examples/im2col.tl), once tlc compiles it:
//   col[(n*OH + oh)*OW + ow, (kh*KW + kw)*C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// (zero outside the image). The image shape is compiled into the kernel, so each
// size is its own build: build_bench.sh passes the same -D values to tlc and, as
// IM_NB, IM_H, ..., to this program. Bit-exact. Bytes: the image read once + the
// column matrix written once (as the peers were measured).
#include "bench.h"

#include TLC_KERNEL_HEADER

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
#ifndef IM_SIZE
#define IM_SIZE "large"
#endif

int main() {
  constexpr int NB = IM_NB, H = IM_H, W = IM_W, C = IM_C, KW = IM_KW, S = IM_S, D = IM_D, P = IM_P;
  constexpr int OH = (H + 2 * P - D * (KW - 1) - 1) / S + 1, OW = (W + 2 * P - D * (KW - 1) - 1) / S + 1;
  const size_t imgCount = size_t(NB) * H * W * C, rows = size_t(NB) * OH * OW, cols = size_t(KW) * KW * C;
  const size_t imgBytes = imgCount * 2, colBytes = rows * cols * 2;
  // The dry run (CPU mock) has no emulation of this kernel and no time for the large image.
  if (bench::dryRun() && std::strcmp(IM_SIZE, "large") == 0) return 0;
  bench::Gpu& g = bench::device();
  const int sets = bench::rotationSets(imgBytes + colBytes);

  std::vector<uint16_t> img(imgCount), col(rows * cols), want(rows * cols, 0);
  gpu_test::fillRandomBits(img, 37u * NB + C);
  for (int n = 0; n < NB; ++n)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int kh = 0; kh < KW; ++kh)
          for (int kw = 0; kw < KW; ++kw) {
            const int ih = oh * S - P + kh * D, iw = ow * S - P + kw * D;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const size_t row = (size_t(n) * OH + oh) * OW + ow, col0 = (size_t(kh) * KW + kw) * C;
            std::memcpy(&want[row * cols + col0], &img[((size_t(n) * H + ih) * W + iw) * C], size_t(C) * 2);
          }
  auto imgs = bench::bufferSets(sets, imgBytes), colsets = bench::bufferSets(sets, colBytes);
  bench::fillSets(imgs, img);
  colsets[0].poison();

  bench::Case k;
  k.row.op = "im2col";
  k.row.what = BENCH_WHAT;
  k.row.shape = "N" + std::to_string(NB) + " " + std::to_string(H) + "x" + std::to_string(W) + " C" +
                std::to_string(C) + " fp16 " + std::to_string(KW) + "x" + std::to_string(KW) + " s" +
                std::to_string(S) + " p" + std::to_string(P);
  k.row.size = IM_SIZE;
  k.row.bytes = double(imgBytes + colBytes);
  k.row.sets = sets;
  k.launch = [&](int s) { return KERNEL_FN(launch)(imgs[s].ptr(), colsets[s].ptr(), g.stream); };
  k.variant = [&] { return KERNEL_FN(select_variant)(imgs[0].ptr(), colsets[0].ptr()); };
  k.variantEntry = [](int v) { return KERNEL_FN(variant_entry)(v); };
  k.verify = [&](bench::Checker& check) {
    colsets[0].download(col.data());
    bench::compareBytes(check, col.data(), want.data(), colBytes, 2);
    if (!colsets[0].guardsIntact()) check.fail("wrote outside col");
  };
  k.run();
  return bench::finish();
}
