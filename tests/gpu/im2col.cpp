// im2col: the column matrix of an implicit-GEMM convolution from an NHWC float16
// image (the spec's im2col.tl, kernel `unfold`), bit-exact against a CPU reference:
//   col[(n*OH + oh)*OW + ow, (kh*KW + kw)*C + c] = img[n, oh*S - P + kh*D, ow*S - P + kw*D, c]
// and zero where that pixel is outside the image. The image's shape is compiled into
// the kernel, so scripts/build_gpu_tests.sh builds one configuration per shape and
// passes the same values to tlc (-D NB=...) and here (IM_NB, ...). Each configuration
// runs with 16-byte aligned pointers (the fast variant where C allows it) and with both
// pointers 2 and 8 bytes off (the general variant must be picked), after poisoning col.
// The aligned run must pick TLC_ALIGNED_ENTRY: "unfold_aligned", or "unfold" for a
// configuration whose C gives no 16-byte runs (build_gpu_tests.sh says which).
// TLC_ALIGN_BYTES is the pointer alignment the specialized variant assumes (16, or
// less where C's rows are shorter: C = 6 fp16 gives 12-byte runs and a 4-byte
// assumption); an offset that keeps it must still pick the specialized variant.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "im2col.h"
#endif
#ifndef TLC_TEST_NAME
#define TLC_TEST_NAME "im2col"
#endif
#ifndef TLC_ALIGNED_ENTRY
#define TLC_ALIGNED_ENTRY "unfold_aligned"
#endif
#ifndef TLC_ALIGN_BYTES
#define TLC_ALIGN_BYTES 16
#endif
#include "im2col_reference.h"  // the geometry (IM_NB, ...) and the CPU reference
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using namespace im2col;

void testOnce(size_t offset, bool time, const char* wantEntry) {
  Gpu& g = gpu();
  const size_t imgCount = size_t(NB) * H * W * C, rows = size_t(NB) * OH * OW, cols = size_t(KW) * KW * C;
  const size_t imgBytes = imgCount * 2, colBytes = rows * cols * 2;
  Checker check;

  std::vector<uint16_t> img(imgCount);
  fillRandomBits(img, 7919u * NB + 31u * C + 7u * S + D);
  const std::vector<uint16_t> want = reference(img);

  const int sets = time ? rotationSets(imgBytes + colBytes) : 1;
  std::vector<DeviceBuffer> imgs = bufferSets(sets, imgBytes, offset), colsets = bufferSets(sets, colBytes, offset);
  fillSets(imgs, img);
  colsets[0].poison();

  const int variant = unfold_select_variant(imgs[0].ptr(), colsets[0].ptr());
  const char* entry = unfold_variant_entry(variant);
  if (offset % TLC_ALIGN_BYTES != 0 && !isGeneralEntry(entry, "unfold"))
    check.fail("a specialized variant was picked for pointers off the alignment it assumes");
  expectVariant(entry, wantEntry, "img,col +" + std::to_string(offset) + "B", check);

  if (launchAndWait(unfold_launch(imgs[0].ptr(), colsets[0].ptr(), g.stream), check))
    checkBitExact(check, colsets[0], want, "col", imgs[0], "img");

  Result r;
  r.name = TLC_TEST_NAME;
  r.shape = "N" + std::to_string(NB) + " " + std::to_string(H) + "x" + std::to_string(W) + " C" + std::to_string(C) +
            " fp16 " + std::to_string(KW) + "x" + std::to_string(KW) + " s" + std::to_string(S) + " d" +
            std::to_string(D) + " p" + std::to_string(P) + (offset ? " img,col+" + std::to_string(offset) + "B" : "");
  r.variant = entry ? entry : "?";
  r.bytes = double(imgBytes + colBytes);
  reportChecked(r, check, time,
                [&](int rep) { return unfold_launch(imgs[rep % sets].ptr(), colsets[rep % sets].ptr(), g.stream); });
}

}  // namespace

int main() {
  printVariants(TLC_TEST_NAME, unfold_variant_entry);
  testOnce(0, true, TLC_ALIGNED_ENTRY);
  testOnce(2, false, "unfold");  // 2 bytes past 16-byte alignment: the general variant
  // 8 bytes past: the general variant, unless the specialized one assumes 8 bytes or less
  testOnce(8, false, 8 % TLC_ALIGN_BYTES == 0 ? TLC_ALIGNED_ENTRY : "unfold");
  return finish();
}
