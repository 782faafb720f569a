// fp4: float4_e2m1fn kernels (tests/gpu/kernels/fp4_kernels.tl) against the host
// format (src/ir/Float4.h): packed two to a byte, element k of a row in byte k / 2,
// low nibble first.
//  - copies global -> shared -> global (cp.async + 16-byte stores, TMA both ways, a
//    SIMT copy through a fragment): random bytes in, output poisoned (0xFF), every
//    byte compared, nothing written outside; ragged shapes (M, N not multiples of the
//    tile); an odd N is refused by the launcher, naming the dimension and tensor;
//  - dequantization (from a shared tile, and straight from global): every float32
//    compared bit-exactly (signed zeros included) with tlc::fp4::toFloat;
//  - quantization (straight to global, and through a shared tile): random floats in
//    [-8, 8) plus every rounding tie, +-0, +-Inf, NaN, huge and tiny values; every
//    byte compared with tlc::fp4::fromFloat packed;
//  - quantization by two blocks per tile, one storing the even and one the odd
//    elements of the same bytes at the same time (atomic nibble updates): the same
//    check, so a lost nibble shows as a wrong byte;
//  - quantization into a transposed Q (two threads of a block write the halves of
//    one byte: atomic nibble updates), ragged, every byte compared;
//  - fill of a part of a shared tile and of a whole fragment: random bytes in, output
//    poisoned, every byte compared.
#include <string>
#include <vector>

#include "harness.h"
#include "../../src/ir/Float4.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "fp4_kernels.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using Launch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using Select = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);

std::string variantName(VariantEntryFn entry, int v) {
  const char* e = entry(v);
  return e ? e : "?";
}

void testCopy(const char* name, Launch launch, Select select, VariantEntryFn entry, int M, int N, int wantVariant) {
  Gpu& g = gpu();
  const size_t bytes = size_t(M) * size_t(N) / 2;
  Checker check;
  std::vector<uint8_t> a(bytes), b(bytes);
  Random r(7717u * M + N);
  for (auto& x : a) {
    x = (uint8_t)r.next();
    if (x == 0xFF) x = 0x7F;  // never the poison byte: a missed write shows
  }
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();
  int variant = select(da.ptr(), db.ptr(), M, N);
  if (wantVariant >= 0) expectVariant(check, variant, wantVariant);
  if (launchAndWait(launch(da.ptr(), db.ptr(), M, N, g.stream), check)) checkBitExact(check, db, a, "B", da, "A");
  Result res;
  res.name = name;
  res.shape = shapeString({M, N}, "fp4");
  res.variant = variantName(entry, variant);
  res.bytes = 2.0 * bytes;
  reportChecked(res, check, bytes >= (size_t(1) << 24), [&](int) { return launch(da.ptr(), db.ptr(), M, N, g.stream); });
}

void testOddN(const char* name, Launch launch, const char* launcher, int M, int N) {
  Gpu& g = gpu();
  const size_t bytes = size_t(M) * size_t(N + 1) / 2;
  Checker check;
  DeviceBuffer da(bytes), db(bytes);
  db.poison();
  CUresult got = launch(da.ptr(), db.ptr(), M, N, g.stream);
  if (!isRefusal("odd N", got, fp4_kernels_last_error(), launcher,
                 {"last dimension of float4_e2m1fn tensor", "(N) = " + std::to_string(N), "not a multiple of 2"}))
    check.fail("not refused as wanted");
  if (!db.untouchedSincePoison()) check.fail("wrote B although refused");
  report(untimedResult(std::string(name) + "_refused", shapeString({M, N}, "fp4") + " N odd", check.passed(),
                       "launcher error"));
}

void testDequant(const char* name, Launch launch, Select select, VariantEntryFn entry, int M, int N) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint8_t> q(count / 2);
  Random r(31337u * M + N);
  for (auto& x : q) x = (uint8_t)r.next();
  // Every code in both nibbles at the start (when there is room).
  for (size_t i = 0; i < 16 && i < q.size(); ++i) q[i] = (uint8_t)(i | ((15 - i) << 4));
  std::vector<uint32_t> want(count);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float f = tlc::fp4::toFloat(tlc::fp4::element(&q[size_t(i) * N / 2], j));
      std::memcpy(&want[size_t(i) * N + j], &f, 4);
    }
  DeviceBuffer dq(q.size()), dx(count * 4);
  dq.upload(q.data());
  dx.poison();
  int variant = select(dq.ptr(), dx.ptr(), M, N);
  if (launchAndWait(launch(dq.ptr(), dx.ptr(), M, N, g.stream), check)) checkBitExact(check, dx, want, "X", dq, "Q");
  Result res;
  res.name = name;
  res.shape = shapeString({M, N}, "fp4->fp32");
  res.variant = variantName(entry, variant);
  res.bytes = count / 2.0 + count * 4.0;
  reportChecked(res, check, count >= (size_t(1) << 24), [&](int) { return launch(dq.ptr(), dx.ptr(), M, N, g.stream); });
}

// transposed: Q is N x M (Q[j, i] = X[i, j]) instead of M x N.
void testQuant(const char* name, Launch launch, Select select, VariantEntryFn entry, int M, int N,
               bool transposed = false) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<float> x(count);
  fillUniform(x, 4099u * M + N, -8.0f, 8.0f);
  // The ties (each way), the ends, the specials, the neighbours of each threshold.
  const float special[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, -0.25f, -0.75f, -1.25f, -1.75f, -2.5f,
                           -3.5f, -5.0f, 0.0f, -0.0f, 6.0f, -6.0f, 7.0f, -7.0f, 1e30f, -1e30f, INFINITY, -INFINITY,
                           NAN, -NAN, 1e-40f, -1e-40f, 0.2499999f, 0.2500001f, 4.9999995f, 5.0000005f,
                           0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 0.74999994f, 1.2500001f};
  size_t n = sizeof special / sizeof special[0];
  for (size_t i = 0; i < n && i < count; ++i) x[i] = special[i];
  std::vector<uint8_t> want(count / 2, 0);
  for (size_t i = 0; i < count; ++i) {
    // Element (r, c) of X lands at (r, c) of Q, or at (c, r) when transposed.
    size_t at = transposed ? (i % N) * size_t(M) + i / N : i;
    want[at / 2] |= (uint8_t)(tlc::fp4::fromFloat(x[i]) << (4 * (at % 2)));
  }
  DeviceBuffer dx(count * 4), dq(count / 2);
  dx.upload(x.data());
  dq.poison();
  int variant = select(dx.ptr(), dq.ptr(), M, N);
  if (launchAndWait(launch(dx.ptr(), dq.ptr(), M, N, g.stream), check)) checkBitExact(check, dq, want, "Q", dx, "X");
  Result res;
  res.name = name;
  res.shape = shapeString({M, N}, transposed ? "fp32->fp4 transposed" : "fp32->fp4");
  res.variant = variantName(entry, variant);
  res.bytes = count * 4.0 + count / 2.0;
  reportChecked(res, check, count >= (size_t(1) << 24), [&](int) { return launch(dx.ptr(), dq.ptr(), M, N, g.stream); });
}

using FillLaunch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, float, CUstream);
using FillSelect = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, float);

// fill: B = A with rows [r0, r1) x columns [c0, c1) of every 16 x 64 tile set to v's
// code (both nibbles of each byte), or (whole = true) every element of B set to it.
void testFill(const char* name, FillLaunch launch, FillSelect select, VariantEntryFn entry, int M, int N, float v,
              bool whole) {
  Gpu& g = gpu();
  const size_t bytes = size_t(M) * size_t(N) / 2;
  Checker check;
  std::vector<uint8_t> a(bytes);
  Random r(52711u * M + N);
  for (auto& x : a) {
    x = (uint8_t)r.next();
    if (x == 0xFF) x = 0x7F;
  }
  const uint8_t code = tlc::fp4::fromFloat(v);
  std::vector<uint8_t> want = a;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      bool filled = whole || (i % 16 >= 4 && i % 16 < 8 && j % 64 >= 2 && j % 64 < 34);
      if (!filled) continue;
      uint8_t& byte = want[(size_t(i) * N + j) / 2];
      int shift = 4 * (j % 2);
      byte = (uint8_t)((byte & ~(15 << shift)) | (code << shift));
    }
  DeviceBuffer da(bytes), db(bytes);
  da.upload(a.data());
  db.poison();
  int variant = select(da.ptr(), db.ptr(), M, N, v);
  if (launchAndWait(launch(da.ptr(), db.ptr(), M, N, v, g.stream), check)) checkBitExact(check, db, want, "B", da, "A");
  Result res;
  res.name = name;
  res.shape = shapeString({M, N}, "fp4") + " v=" + std::to_string(v).substr(0, 5);
  res.variant = variantName(entry, variant);
  res.bytes = whole ? bytes : 2.0 * bytes;
  reportChecked(res, check, false, [&](int) { return launch(da.ptr(), db.ptr(), M, N, v, g.stream); });
}

// The host reference itself, on every code and every tie (a failure here is a test bug).
void testReference() {
  Checker check;
  const float values[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (int c = 0; c < 16; ++c) {
    check.add(c, tlc::fp4::toFloat((uint8_t)c), values[c]);
    check.addBits(c, (uint32_t)tlc::fp4::fromFloat(values[c]), (uint32_t)c);
  }
  report(untimedResult("fp4_reference", "16 codes", check.passed(), "host"));
}

// TLC_FP4_SMALL=1 leaves out the large (timed) shapes: for compute-sanitizer runs.
bool small() {
  const char* v = std::getenv("TLC_FP4_SMALL");
  return v && *v && *v != '0';
}

}  // namespace

int main() {
  printVariants("fp4_copy", fp4_copy_variant_entry);
  testReference();
  const int shapes[][2] = {{100, 250}, {1, 2}, {33, 130}, {256, 256}, {1000, 1002}, {129, 64}, {4096, 8192}};
  for (const auto& s : shapes) {
    if (small() && s[0] * s[1] > 4000000) continue;
    testCopy("fp4_copy", fp4_copy_launch, fp4_copy_select_variant, fp4_copy_variant_entry, s[0], s[1], -1);
    testCopy("fp4_copy_tma", fp4_copy_tma_launch, fp4_copy_tma_select_variant, fp4_copy_tma_variant_entry, s[0], s[1], -1);
    testCopy("fp4_copy_sync", fp4_copy_sync_launch, fp4_copy_sync_select_variant, fp4_copy_sync_variant_entry, s[0], s[1], -1);
  }
  // N % 32 == 0 with aligned pointers: the TMA / vector variant; N = 250: the general one.
  testCopy("fp4_copy_tma", fp4_copy_tma_launch, fp4_copy_tma_select_variant, fp4_copy_tma_variant_entry, 70, 320, 0);
  testCopy("fp4_copy_tma", fp4_copy_tma_launch, fp4_copy_tma_select_variant, fp4_copy_tma_variant_entry, 70, 250, 1);
  testOddN("fp4_copy", fp4_copy_launch, "fp4_copy_launch", 10, 251);
  testOddN("fp4_copy_tma", fp4_copy_tma_launch, "fp4_copy_tma_launch", 10, 1);
  const int qshapes[][2] = {{100, 250}, {1, 2}, {17, 66}, {64, 64}, {1000, 1002}, {4096, 8192}};
  for (const auto& s : qshapes) {
    if (small() && s[0] * s[1] > 4000000) continue;
    testDequant("fp4_dequant", fp4_dequant_launch, fp4_dequant_select_variant, fp4_dequant_variant_entry, s[0], s[1]);
    testDequant("fp4_dequant_global", fp4_dequant_global_launch, fp4_dequant_global_select_variant,
                fp4_dequant_global_variant_entry, s[0], s[1]);
    testQuant("fp4_quant", fp4_quant_launch, fp4_quant_select_variant, fp4_quant_variant_entry, s[0], s[1]);
    testQuant("fp4_quant_shared", fp4_quant_shared_launch, fp4_quant_shared_select_variant,
              fp4_quant_shared_variant_entry, s[0], s[1]);
    testQuant("fp4_quant_halves", fp4_quant_halves_launch, fp4_quant_halves_select_variant,
              fp4_quant_halves_variant_entry, s[0], s[1]);
  }
  const int tshapes[][2] = {{100, 250}, {2, 2}, {66, 17}, {64, 64}, {1000, 1002}};
  for (const auto& s : tshapes)
    testQuant("fp4_quant_transposed", fp4_quant_transposed_launch, fp4_quant_transposed_select_variant,
              fp4_quant_transposed_variant_entry, s[0], s[1], true);
  const int fshapes[][2] = {{100, 250}, {1, 2}, {33, 130}, {64, 64}, {1000, 1002}};
  const float fvalues[] = {1.5f, -3.0f, 0.3f, 100.0f};
  for (size_t k = 0; k < sizeof fshapes / sizeof fshapes[0]; ++k) {
    const int M = fshapes[k][0], N = fshapes[k][1];
    float v = fvalues[k % 4];
    testFill("fp4_fill", fp4_fill_launch, fp4_fill_select_variant, fp4_fill_variant_entry, M, N, v, false);
    testFill("fp4_fill_fragment", fp4_fill_fragment_launch, fp4_fill_fragment_select_variant,
             fp4_fill_fragment_variant_entry, M, N, -v, true);
  }
  return finish();
}
