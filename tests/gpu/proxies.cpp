// proxies: TileLang's proxy forms (tests/gpu/kernels/proxies.tl), bit-exact on ragged
// shapes with random data and poisoned outputs:
// - offset_factor_copy: Buffer(elem_offset=off, offset_factor=8), B = A; offsets that
//   keep 16-byte alignment run the vectorized variant, others the general one, and an
//   offset that is not a multiple of 8 is refused by the launcher (an error CUresult
//   and its message), writing nothing;
// - own_offset: Buffer(offset_factor=4) without elem_offset: the offset is the launcher
//   argument A_elem_offset (multiples of 4 run, 6 is refused); B is BaseTensor((M, N)),
//   float32 by default;
// - views: Z = 2 X + Y over X = Tensor((n,), data=p) of ptr() (float32 by default),
//   Y = make_tensor(q, (n,)) (the pointer's float16), Z = Buffer.from_ptr(r, (n,));
// - strided_view: StridedTensor.from_ptr(p, (M, N), float16, (ld, 1)) copied to B.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "proxies.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

// B = A for a tensor `off` elements past its pointer (elem bytes `eb`: 2 or 4).
template <class Bits, class Launch, class Select, class Entry>
void testOffsetCopy(const char* name, const char* kernel, int M, int N, int off, bool refused, Launch launch,
                    Select select, Entry entry, const char* wantEntry = nullptr) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<Bits> a(count + off), b(count);
  fillRandomBits(a, 7919u * M + N + off);
  DeviceBuffer da((count + off) * sizeof(Bits)), db(count * sizeof(Bits));
  da.upload(a.data());
  db.poison();
  const int variant = select(da.ptr(), db.ptr(), M, N, off);
  const char* e = entry(variant);
  std::string shape = shapeString({M, N}, sizeof(Bits) == 2 ? "fp16" : "fp32") + " off=" + std::to_string(off);
  CUresult status = launch(da.ptr(), db.ptr(), M, N, off, g.stream);
  if (refused) {
    if (!isRefusal(name, status, proxies_last_error(), std::string(kernel) + "_launch",
                   {"the elem_offset of tensor 'A'", "is not a multiple of"}))
      check.fail("not refused as expected");
    if (!db.untouchedSincePoison()) check.fail("wrote B although refused");
    report(untimedResult(name, shape + " refused", check.passed(), "launcher error"));
    return;
  }
  if (wantEntry) expectVariant(e, wantEntry, shape, check);
  if (launchAndWait(status, check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) check.addBits(i, b[i], a[i + off]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  report(untimedResult(name, shape, check.passed(), e ? e : "?"));
}

void testViews(int n, size_t offset) {
  Gpu& g = gpu();
  Checker check;
  std::vector<uint32_t> xbits(n);
  std::vector<uint16_t> y(n);
  std::vector<float> x(n), z(n);
  fillUniform(x, 31u + n, -100.0f, 100.0f);
  fillRandomBits(y, 37u + n);
  for (uint16_t& h : y) h = uint16_t((h & 0x83ff) | ((5 + (h >> 10) % 16) << 10));  // finite, normal
  DeviceBuffer dp(size_t(n) * 4, offset), dq(size_t(n) * 2, offset), dr(size_t(n) * 4, offset);
  dp.upload(x.data());
  dq.upload(y.data());
  dr.poison();
  const char* e = views_variant_entry(views_select_variant(dp.ptr(), dq.ptr(), dr.ptr(), n));
  std::string shape = "n=" + std::to_string(n) + (offset ? " +" + std::to_string(offset) + "B" : "");
  if (offset % 16 != 0 && !isGeneralEntry(e, "views")) check.fail("misaligned pointers must take the general variant");
  if (launchAndWait(views_launch(dp.ptr(), dq.ptr(), dr.ptr(), n, g.stream), check)) {
    dr.download(z.data());
    for (int i = 0; i < n; ++i) check.add(size_t(i), z[i], double(x[i] * 2.0f + halfToFloat(y[i])));
    if (!dr.guardsIntact()) check.fail("wrote outside r");
  }
  report(untimedResult("proxies_views", shape, check.passed(), e ? e : "?"));
}

void testStrided(int M, int N, int ld) {
  Gpu& g = gpu();
  Checker check;
  std::vector<uint16_t> a(size_t(M) * ld), b(size_t(M) * N);
  fillRandomBits(a, 41u * M + N + ld);
  DeviceBuffer da(a.size() * 2), db(b.size() * 2);
  da.upload(a.data());
  db.poison();
  const char* e = strided_view_variant_entry(strided_view_select_variant(da.ptr(), db.ptr(), M, N, ld));
  if (launchAndWait(strided_view_launch(da.ptr(), db.ptr(), M, N, ld, g.stream), check)) {
    db.download(b.data());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) check.addBits(size_t(i) * N + j, b[size_t(i) * N + j], a[size_t(i) * ld + j]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
    if (!da.guardsIntact()) check.fail("wrote outside p");
  }
  report(untimedResult("proxies_strided_from_ptr", shapeString({M, N}, "fp16") + " ld=" + std::to_string(ld),
                       check.passed(), e ? e : "?"));
}

}  // namespace

int main() {
  printVariants("proxies offset_factor_copy", offset_factor_copy_variant_entry);
  auto copy16 = [](const char* name, int M, int N, int off, bool refused, const char* want = nullptr) {
    testOffsetCopy<uint16_t>(name, "offset_factor_copy", M, N, off, refused, offset_factor_copy_launch,
                             offset_factor_copy_select_variant, offset_factor_copy_variant_entry, want);
  };
  copy16("proxies_offset_factor", 1000, 1000, 8, false, "offset_factor_copy_aligned");
  copy16("proxies_offset_factor", 37, 131, 16, false, "offset_factor_copy");  // N odd: general
  copy16("proxies_offset_factor", 1, 1, 0, false);
  copy16("proxies_offset_factor", 129, 200, 24, false);
  copy16("proxies_offset_factor", 64, 64, 3, true);
  copy16("proxies_offset_factor", 64, 64, 12, true);
  auto copy32 = [](const char* name, int M, int N, int off, bool refused) {
    testOffsetCopy<uint32_t>(name, "own_offset", M, N, off, refused, own_offset_launch, own_offset_select_variant,
                             own_offset_variant_entry);
  };
  copy32("proxies_own_offset", 1000, 1000, 4, false);
  copy32("proxies_own_offset", 17, 67, 0, false);
  copy32("proxies_own_offset", 129, 200, 12, false);
  copy32("proxies_own_offset", 64, 64, 6, true);
  testViews(1, 0);
  testViews(1031, 0);
  testViews(1031, 4);  // misaligned: the general variant
  testViews(1 << 20, 0);
  testStrided(37, 131, 140);
  testStrided(1, 8, 8);
  testStrided(100, 64, 67);
  return finish();
}
