// im2col.cpp: the column matrix of an implicit-GEMM convolution from an NHWC float16
// image, with tlc's unfold (examples/im2col.tl), once tlc compiles it:
//   col[(n*OH + oh)*OW + ow, (kh*KW + kw)*C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// (zero outside the image; tests/gpu/im2col_reference.h). The image shape is compiled into the kernel, so each
// size is its own build: build_bench.sh passes the same -D values to tlc and, as
// IM_NB, IM_H, ..., to this program. Bit-exact. Bytes: the image read once + the
// column matrix written once (as the peers were measured).
#include "bench.h"
#include "im2col_reference.h"  // tests/gpu: the geometry, IM_* defaults and the reference

#include TLC_KERNEL_HEADER

#ifndef IM_SIZE
#define IM_SIZE "large"
#endif

int main() {
  using namespace im2col;
  const size_t imgCount = kImageCount, rows = kRows, cols = kCols;
  const size_t imgBytes = imgCount * 2, colBytes = rows * cols * 2;
  // The dry run (CPU mock) has no emulation of this kernel and no time for the large image.
  if (bench::dryRun() && std::strcmp(IM_SIZE, "large") == 0) return 0;
  bench::Gpu& g = bench::device();
  const int sets = bench::rotationSets(imgBytes + colBytes);

  std::vector<uint16_t> img(imgCount), col(rows * cols);
  gpu_test::fillRandomBits(img, 37u * NB + C);
  const std::vector<uint16_t> want = reference(img);
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
