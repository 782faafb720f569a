// views: tests/gpu/kernels/views.tl, view / reshape of global tensors (issue 20 item 7)
// on the GPU: flat2d (a 4096-float32 vector as 64 x 64), halves (R x 64 float32 as
// R x 128 float16: the same bytes), swapdims ((M, N) as (N, M)). Each output's bytes
// must equal the input's, bit for bit; outputs poisoned first; ragged R, M, N; the
// general variants through misaligned bases. Views of shared tiles: tileview (B = 2 A
// + column, written through the tile's (64, 16) reshape; H = B's bytes through a
// float16 view), rowscan (TileLang's issue 1001: Y = each row's prefix sums, scanned
// through a (1, W) view of the row's tile), bit for bit against the host's float32
// arithmetic in the kernel's order, ragged R and NT, misaligned bases. Views of
// fragments: fragview (B = 2 A + the (48, 12) reshape's row - 0.5, written through
// three names of one fragment, 576 elements over 128 threads), fragreduce (sums of
// the (15, 16) reshape's rows by warp shuffles, maxima of the (12, 20) view's rows
// and absolute maxima over axis 1 of the (3, 4, 20) reshape through shared scratch;
// small integers, so every order of the sums is exact), ragged block counts; and of
// a local buffer: localview (B = 2 A + column // 4 through a (3, 4) reshape of
// each thread's 12-element array), ragged N, misaligned bases. fp4view: an fp4 tensor
// as its uint8 bytes and uint8 bytes as fp4 (decoded to float16), ragged R.
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "views.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

void finishResult(const char* name, const std::string& shape, const char* entry, double bytes, Checker& check,
                  const std::function<CUresult()>& launch) {
  Result r;
  r.name = name;
  r.shape = shape;
  r.variant = entry ? entry : "?";
  r.bytes = bytes;
  if (check.passed()) r.ms = medianMs([&](int) { return launch(); });
  r.pass = check.passed();
  r.maxErr = check.maxError();
  report(r);
}

// `elems` 32-bit words in, the same bytes out.
template <typename Launch, typename Select>
void sameBytes(const char* name, const std::string& shape, size_t words, size_t offset, Launch launch, Select select,
               const char* general) {
  Checker check;
  std::vector<uint32_t> a(words), b(words);
  fillRandomBits(a, uint32_t(words) * 7u + uint32_t(offset));
  DeviceBuffer da(words * 4, offset), db(words * 4, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = select(da.ptr(), db.ptr());
  if (offset && !isGeneralEntry(entry, general)) check.fail("a misaligned base did not take the general variant");
  if (launchAndWait(launch(da.ptr(), db.ptr()), check)) {
    db.download(b.data());
    for (size_t i = 0; i < words; ++i) check.addBits(i, b[i], a[i]);
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  finishResult(name, shape + (offset ? " +4B" : ""), entry, double(words * 8), check,
               [&] { return launch(da.ptr(), db.ptr()); });
}

}  // namespace

int main() {
  Gpu& g = gpu();
  for (size_t offset : {size_t(0), size_t(4)})
    sameBytes("views_flat2d", "4096 fp32", 4096, offset,
              [&](CUdeviceptr a, CUdeviceptr b) { return flat2d_launch(a, b, g.stream); },
              [&](CUdeviceptr a, CUdeviceptr b) { return flat2d_variant_entry(flat2d_select_variant(a, b)); },
              "flat2d");
  for (int R : {1, 16, 17, 40, 1000})
    for (size_t offset : {size_t(0), size_t(4)})
      sameBytes("views_halves", shapeString({R, 64}, "fp32->fp16"), size_t(R) * 64, offset,
                [&](CUdeviceptr a, CUdeviceptr b) { return halves_launch(a, b, R, g.stream); },
                [&](CUdeviceptr a, CUdeviceptr b) { return halves_variant_entry(halves_select_variant(a, b, R)); },
                "halves");
  for (auto [M, N] : std::vector<std::pair<int, int>>{{32, 32}, {17, 45}, {1, 1}, {64, 12}, {1000, 1000}})
    for (size_t offset : {size_t(0), size_t(4)})
      sameBytes("views_swapdims", shapeString({M, N}, "fp32"), size_t(M) * N, offset,
                [&](CUdeviceptr a, CUdeviceptr b) { return swapdims_launch(a, b, M, N, g.stream); },
                [&](CUdeviceptr a, CUdeviceptr b) { return swapdims_variant_entry(swapdims_select_variant(a, b, M, N)); },
                "swapdims");
  // alloc_global: the caller's workspace C; B = 2 A + 1 (fp32, exact for the
  // inputs' magnitudes: 2 A is exact, + 1 rounds as the reference does).
  for (int N : {1, 127, 128, 300, 1 << 20}) {
    Checker check;
    std::vector<float> a(static_cast<size_t>(N)), b(static_cast<size_t>(N));
    fillUniform(a, 31u * N, -8.0f, 8.0f);
    DeviceBuffer da(size_t(N) * 4), db(size_t(N) * 4), dc(size_t(N) * 4);
    da.upload(a.data());
    db.poison();
    dc.poison();
    const char* entry = workspace_variant_entry(workspace_select_variant(da.ptr(), db.ptr(), dc.ptr(), N));
    if (launchAndWait(workspace_launch(da.ptr(), db.ptr(), dc.ptr(), N, g.stream), check)) {
      db.download(b.data());
      for (size_t i = 0; i < size_t(N); ++i) {
        float want = a[i] * 2.0f + 1.0f;
        uint32_t got, ref;
        std::memcpy(&got, &b[i], 4);
        std::memcpy(&ref, &want, 4);
        check.addBits(i, got, ref);
      }
      if (!db.guardsIntact() || !dc.guardsIntact()) check.fail("wrote outside B or C");
    }
    finishResult("views_workspace", shapeString({N}, "fp32"), entry, double(N) * 16, check,
                 [&] { return workspace_launch(da.ptr(), db.ptr(), dc.ptr(), N, g.stream); });
  }
  // tileview: B = 2 A + column (2 A exact, the add rounded once, as on the host);
  // H: B's bytes as float16 halves.
  for (int R : {1, 16, 17, 40, 1000})
    for (size_t offset : {size_t(0), size_t(4)}) {
      Checker check;
      size_t n = size_t(R) * 64;
      std::vector<float> a(n), b(n);
      std::vector<uint32_t> h(n);
      fillUniform(a, 37u * R + offset, -8.0f, 8.0f);
      DeviceBuffer da(n * 4, offset), db(n * 4, offset), dh(n * 4, offset);
      da.upload(a.data());
      db.poison();
      dh.poison();
      const char* entry = tileview_variant_entry(tileview_select_variant(da.ptr(), db.ptr(), dh.ptr(), R));
      if (offset && !isGeneralEntry(entry, "tileview")) check.fail("a misaligned base did not take the general variant");
      if (launchAndWait(tileview_launch(da.ptr(), db.ptr(), dh.ptr(), R, g.stream), check)) {
        db.download(b.data());
        dh.download(h.data());
        for (size_t i = 0; i < n; ++i) {
          float want = a[i] * 2.0f + float(i % 64);
          uint32_t got, ref;
          std::memcpy(&got, &b[i], 4);
          std::memcpy(&ref, &want, 4);
          check.addBits(i, got, ref);
          check.addBits(n + i, h[i], ref);  // two float16 halves, the same bytes
        }
        if (!db.guardsIntact() || !dh.guardsIntact()) check.fail("wrote outside B or H");
      }
      finishResult("views_tileview", shapeString({R, 64}, "fp32") + (offset ? " +4B" : ""), entry, double(n) * 12,
                   check, [&] { return tileview_launch(da.ptr(), db.ptr(), dh.ptr(), R, g.stream); });
    }
  // rowscan: Y = each row's inclusive prefix sums, one float32 add after another.
  const int W = 100;
  for (int NT : {1, 7, 1000})
    for (size_t offset : {size_t(0), size_t(4)}) {
      Checker check;
      size_t n = size_t(NT) * W;
      std::vector<float> x(n), y(n);
      fillUniform(x, 41u * NT + offset, -4.0f, 4.0f);
      DeviceBuffer dx(n * 4, offset), dy(n * 4, offset);
      dx.upload(x.data());
      dy.poison();
      const char* entry = rowscan_variant_entry(rowscan_select_variant(dx.ptr(), dy.ptr(), NT));
      if (offset && !isGeneralEntry(entry, "rowscan")) check.fail("a misaligned base did not take the general variant");
      if (launchAndWait(rowscan_launch(dx.ptr(), dy.ptr(), NT, g.stream), check)) {
        dy.download(y.data());
        for (size_t r = 0; r < size_t(NT); ++r) {
          float acc = 0.0f;
          for (size_t j = 0; j < size_t(W); ++j) {
            size_t i = r * W + j;
            acc = acc + x[i];
            uint32_t got, ref;
            std::memcpy(&got, &y[i], 4);
            std::memcpy(&ref, &acc, 4);
            check.addBits(i, got, ref);
          }
        }
        if (!dy.guardsIntact()) check.fail("wrote outside Y");
      }
      finishResult("views_rowscan", shapeString({NT, W}, "fp32") + (offset ? " +4B" : ""), entry, double(n) * 8, check,
                   [&] { return rowscan_launch(dx.ptr(), dy.ptr(), NT, g.stream); });
    }
  // fragview: B = 2 A + (flat index) // 12 - 0.5 per block of 576, rounded as on the host.
  for (int NB : {1, 7, 300})
    for (size_t offset : {size_t(0), size_t(4)}) {
      Checker check;
      size_t n = size_t(NB) * 576;
      std::vector<float> a(n), b(n);
      fillUniform(a, 43u * NB + offset, -8.0f, 8.0f);
      DeviceBuffer da(n * 4, offset), db(n * 4, offset);
      da.upload(a.data());
      db.poison();
      // One variant: the view (64, 9) makes the fragment's groups one element.
      const char* entry = fragview_variant_entry(fragview_select_variant(da.ptr(), db.ptr(), NB));
      if (!isGeneralEntry(entry, "fragview")) check.fail("fragview has one variant, the general one");
      if (launchAndWait(fragview_launch(da.ptr(), db.ptr(), NB, g.stream), check)) {
        db.download(b.data());
        for (size_t i = 0; i < n; ++i) {
          float want = a[i] * 2.0f + float((i % 576) / 12) - 0.5f;
          uint32_t got, ref;
          std::memcpy(&got, &b[i], 4);
          std::memcpy(&ref, &want, 4);
          check.addBits(i, got, ref);
        }
        if (!db.guardsIntact()) check.fail("wrote outside B");
      }
      finishResult("views_fragview", shapeString({NB, 576}, "fp32") + (offset ? " +4B" : ""), entry, double(n) * 8,
                   check, [&] { return fragview_launch(da.ptr(), db.ptr(), NB, g.stream); });
    }
  // fragreduce: per block of 240, S = the sums of 16, X = the maxima of 20, Y[i, k] =
  // the largest |A[i * 80 + j * 20 + k]| over j < 4.
  for (int NB : {1, 5, 333})
    for (size_t offset : {size_t(0), size_t(4)}) {
      Checker check;
      size_t n = size_t(NB) * 240;
      std::vector<float> a(n), s(size_t(NB) * 15), x(size_t(NB) * 12), y(size_t(NB) * 60);
      for (size_t i = 0; i < n; ++i) a[i] = float(int((uint32_t(i + 11u * NB + offset) * 2654435761u) >> 24) % 41 - 20);
      DeviceBuffer da(n * 4, offset), ds(s.size() * 4, offset), dx(x.size() * 4, offset), dy(y.size() * 4, offset);
      da.upload(a.data());
      ds.poison();
      dx.poison();
      dy.poison();
      const char* entry =
          fragreduce_variant_entry(fragreduce_select_variant(da.ptr(), ds.ptr(), dx.ptr(), dy.ptr(), NB));
      if (offset && !isGeneralEntry(entry, "fragreduce")) check.fail("a misaligned base did not take the general variant");
      if (launchAndWait(fragreduce_launch(da.ptr(), ds.ptr(), dx.ptr(), dy.ptr(), NB, g.stream), check)) {
        ds.download(s.data());
        dx.download(x.data());
        dy.download(y.data());
        for (size_t b = 0; b < size_t(NB); ++b) {
          const float* p = &a[b * 240];
          for (size_t r = 0; r < 15; ++r) {
            float acc = 0.0f;
            for (size_t k = 0; k < 16; ++k) acc += p[r * 16 + k];
            check.add(b * 15 + r, s[b * 15 + r], acc);
          }
          for (size_t r = 0; r < 12; ++r) {
            float m = p[r * 20];
            for (size_t k = 1; k < 20; ++k) m = std::max(m, p[r * 20 + k]);
            check.add(n + b * 12 + r, x[b * 12 + r], m);
          }
          for (size_t i = 0; i < 3; ++i)
            for (size_t k = 0; k < 20; ++k) {
              float m = 0.0f;
              for (size_t j = 0; j < 4; ++j) m = std::max(m, std::fabs(p[i * 80 + j * 20 + k]));
              check.add(2 * n + b * 60 + i * 20 + k, y[b * 60 + i * 20 + k], m);
            }
        }
        if (!ds.guardsIntact() || !dx.guardsIntact() || !dy.guardsIntact()) check.fail("wrote outside S, X or Y");
      }
      finishResult("views_fragreduce", shapeString({NB, 240}, "fp32") + (offset ? " +4B" : ""), entry,
                   double(n) * 4, check,
                   [&] { return fragreduce_launch(da.ptr(), ds.ptr(), dx.ptr(), dy.ptr(), NB, g.stream); });
    }
  // localview: B = 2 A + (column // 4), rounded as on the host.
  for (int N : {1, 7, 1000})
    for (size_t offset : {size_t(0), size_t(4)}) {
      Checker check;
      size_t n = size_t(N) * 12;
      std::vector<float> a(n), b(n);
      fillUniform(a, 47u * N + offset, -8.0f, 8.0f);
      DeviceBuffer da(n * 4, offset), db(n * 4, offset);
      da.upload(a.data());
      db.poison();
      const char* entry = localview_variant_entry(localview_select_variant(da.ptr(), db.ptr(), N));
      if (offset && !isGeneralEntry(entry, "localview")) check.fail("a misaligned base did not take the general variant");
      if (launchAndWait(localview_launch(da.ptr(), db.ptr(), N, g.stream), check)) {
        db.download(b.data());
        for (size_t i = 0; i < n; ++i) {
          float want = a[i] * 2.0f + float((i % 12) / 4);
          uint32_t got, ref;
          std::memcpy(&got, &b[i], 4);
          std::memcpy(&ref, &want, 4);
          check.addBits(i, got, ref);
        }
        if (!db.guardsIntact()) check.fail("wrote outside B");
      }
      finishResult("views_localview", shapeString({N, 12}, "fp32") + (offset ? " +4B" : ""), entry, double(n) * 8,
                   check, [&] { return localview_launch(da.ptr(), db.ptr(), N, g.stream); });
    }
  // fp4view: B = A's packed bytes through a uint8 view; D = C's nibbles through an
  // fp4 view, decoded (even element: the low nibble), compared by value.
  static const float kFp4[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  // The last R: 2^25 + 1 rows, 2^31 + 64 fp4 elements (1 GiB of bytes, 4 GiB of D).
  for (int R : {1, 16, 37, 1000, (1 << 25) + 1})
    for (size_t offset : {size_t(0), size_t(4)}) {
      if (R > 1000 && (offset || !haveDeviceMemory("views_fp4view", shapeString({R, 64}, "fp4"), size_t(R) * 224)))
        continue;
      Checker check;
      size_t bytes = size_t(R) * 32;
      std::vector<uint8_t> a(bytes), b(bytes), c(bytes);
      std::vector<uint16_t> d(size_t(R) * 64);
      fillRandomBits(a, 59u * R + offset);
      fillRandomBits(c, 61u * R + offset);
      DeviceBuffer da(bytes, offset), db(bytes, offset), dc(bytes, offset), dd(size_t(R) * 128, offset);
      da.upload(a.data());
      dc.upload(c.data());
      db.poison();
      dd.poison();
      const char* entry =
          fp4view_variant_entry(fp4view_select_variant(da.ptr(), db.ptr(), dc.ptr(), dd.ptr(), R));
      if (offset && !isGeneralEntry(entry, "fp4view")) check.fail("a misaligned base did not take the general variant");
      if (launchAndWait(fp4view_launch(da.ptr(), db.ptr(), dc.ptr(), dd.ptr(), R, g.stream), check)) {
        db.download(b.data());
        dd.download(d.data());
        for (size_t i = 0; i < bytes; ++i) check.addBits(i, b[i], a[i]);
        for (size_t i = 0; i < d.size(); ++i) {
          uint8_t code = (c[i / 2] >> (4 * (i % 2))) & 0xF;
          float want = (code & 8) ? -kFp4[code & 7] : kFp4[code & 7];
          check.add(bytes + i, halfToFloat(d[i]), want);
        }
        if (!db.guardsIntact() || !dd.guardsIntact()) check.fail("wrote outside B or D");
      }
      finishResult("views_fp4view", shapeString({R, 64}, "fp4") + (offset ? " +4B" : ""), entry, double(bytes) * 6,
                   check, [&] { return fp4view_launch(da.ptr(), db.ptr(), dc.ptr(), dd.ptr(), R, g.stream); });
    }
  return finish();
}
