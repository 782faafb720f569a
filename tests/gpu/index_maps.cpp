// index_maps: tests/gpu/kernels/index_maps.tl on the GPU, annotate_layout's Layout
// index maps on shared tiles (issue 20 item 8). transposed and xor_pieces: B = 2 x A
// read one column on (wrapping inside each 64-column tile; 0 past N), the tile
// written by a copy (SIMT, or cp.async 16 bytes under the XOR map) and read by a
// Parallel loop element by element, so two paths that place an element differently
// give a wrong one. padded_flat: T = A transposed through a second mapped tile and S
// = the column sums (a reduction from that tile, small integers: exact in any
// order). laid_out_views: B = 2 A through a flat view of a swizzled tile (read) and a
// (64, 32) view of a padded one (written), both reading logical elements. Every element against the host, outputs poisoned (S zeroed: atomics add
// into it), ragged shapes, bases 2 or 4 bytes off (the general variants).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "index_maps.h"
#endif
#include TLC_KERNEL_HEADER

using namespace gpu_test;

namespace {

using ShiftLaunch = CUresult (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t, CUstream);
using ShiftSelect = int (*)(CUdeviceptr, CUdeviceptr, int32_t, int32_t);
using VariantEntry = const char* (*)(int);

void shiftedDouble(const char* name, const char* kernel, ShiftLaunch launch, ShiftSelect select, VariantEntry entryOf,
                   int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<uint16_t> a(count), b(count);
  // Normal float16 values with exponent fields 1 to 28: doubling one adds 1 to its
  // exponent field, exactly (the reference works on the bits).
  Random rng(7919u * M + 31u * N + offset);
  for (auto& x : a) {
    uint64_t r = rng.next();
    x = uint16_t((r & 0x8000) | ((1 + (r >> 16) % 28) << 10) | ((r >> 32) & 0x3ff));
  }
  DeviceBuffer da(count * 2, offset), db(count * 2, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = entryOf(select(da.ptr(), db.ptr(), M, N));
  if (offset && !isGeneralEntry(entry, kernel)) check.fail("a misaligned base did not take the general variant");
  if (launchAndWait(launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t r = 0; r < size_t(M); ++r)
      for (size_t c = 0; c < size_t(N); ++c) {
        size_t from = c / 64 * 64 + (c % 64 + 1) % 64;
        uint16_t want = from < size_t(N) ? uint16_t(a[r * N + from] + (1u << 10)) : uint16_t(0);  // +0 past N
        check.addBits(r * N + c, b[r * N + c], want);
      }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result res;
  res.name = name;
  res.shape = shapeString({M, N}, "fp16") + (offset ? " +" + std::to_string(offset) + "B" : "");
  res.variant = entry ? entry : "?";
  res.bytes = 4.0 * count;
  reportChecked(res, check, count >= (1u << 22), [&](int) { return launch(da.ptr(), db.ptr(), M, N, g.stream); });
}

void paddedFlat(int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<float> a(count), t(count), s(static_cast<size_t>(N));
  Random rng(104729u * M + N + offset);
  for (auto& x : a) x = float(int(rng.next() % 17) - 8);
  DeviceBuffer da(count * 4, offset), dt(count * 4, offset), ds(size_t(N) * 4, offset);
  da.upload(a.data());
  dt.poison();
  std::vector<float> zeros(size_t(N), 0.0f);
  ds.upload(zeros.data());
  const char* entry = padded_flat_variant_entry(padded_flat_select_variant(da.ptr(), dt.ptr(), ds.ptr(), M, N));
  if (offset && !isGeneralEntry(entry, "padded_flat")) check.fail("a misaligned base did not take the general variant");
  if (launchAndWait(padded_flat_launch(da.ptr(), dt.ptr(), ds.ptr(), M, N, g.stream), check)) {
    dt.download(t.data());
    ds.download(s.data());
    for (size_t c = 0; c < size_t(N); ++c)
      for (size_t r = 0; r < size_t(M); ++r) check.add(c * M + r, t[c * M + r], a[r * N + c]);
    for (size_t c = 0; c < size_t(N); ++c) {
      double sum = 0;
      for (size_t r = 0; r < size_t(M); ++r) sum += a[r * N + c];
      check.add(count + c, s[c], sum);
    }
    if (!dt.guardsIntact() || !ds.guardsIntact()) check.fail("wrote outside T or S");
  }
  Result res;
  res.name = "index_map_padded_flat";
  res.shape = shapeString({M, N}, "fp32") + (offset ? " +" + std::to_string(offset) + "B" : "");
  res.variant = entry ? entry : "?";
  res.bytes = 8.0 * count;
  reportChecked(res, check, false, nullptr);
}

void laidOutViews(int M, int N, size_t offset) {
  Gpu& g = gpu();
  const size_t count = size_t(M) * size_t(N);
  Checker check;
  std::vector<float> a(count), b(count);
  fillUniform(a, 7u * M + 13u * N + offset, -8.0f, 8.0f);
  DeviceBuffer da(count * 4, offset), db(count * 4, offset);
  da.upload(a.data());
  db.poison();
  const char* entry = laid_out_views_variant_entry(laid_out_views_select_variant(da.ptr(), db.ptr(), M, N));
  if (offset && !isGeneralEntry(entry, "laid_out_views")) check.fail("a misaligned base did not take the general variant");
  if (launchAndWait(laid_out_views_launch(da.ptr(), db.ptr(), M, N, g.stream), check)) {
    db.download(b.data());
    for (size_t i = 0; i < count; ++i) {
      float want = 2.0f * a[i];  // exact
      uint32_t got, ref;
      std::memcpy(&got, &b[i], 4);
      std::memcpy(&ref, &want, 4);
      check.addBits(i, got, ref);
    }
    if (!db.guardsIntact()) check.fail("wrote outside B");
  }
  Result res;
  res.name = "index_map_laid_out_views";
  res.shape = shapeString({M, N}, "fp32") + (offset ? " +" + std::to_string(offset) + "B" : "");
  res.variant = entry ? entry : "?";
  res.bytes = 8.0 * count;
  reportChecked(res, check, count >= (1u << 22), [&](int) { return laid_out_views_launch(da.ptr(), db.ptr(), M, N, g.stream); });
}

}  // namespace

int main() {
  const std::vector<std::pair<int, int>> shapes = {{32, 64}, {33, 65}, {1, 1}, {70, 130}, {31, 8}, {997, 1009},
                                                   {2048, 2048}};
  for (auto [M, N] : shapes)
    for (size_t offset : {size_t(0), size_t(2)}) {
      shiftedDouble("index_map_transposed", "transposed", transposed_launch, transposed_select_variant,
                    transposed_variant_entry, M, N, offset);
      shiftedDouble("index_map_xor_pieces", "xor_pieces", xor_pieces_launch, xor_pieces_select_variant,
                    xor_pieces_variant_entry, M, N, offset);
    }
  // Past 2^31 elements (32769 x 65536 float16, 4 GiB a tensor): 64-bit global
  // indices around the mapped tiles.
  {
    const int M = 32769, N = 65536;
    if (haveDeviceMemory("index_map_transposed", shapeString({M, N}, "fp16"), size_t(M) * N * 4)) {
      shiftedDouble("index_map_transposed", "transposed", transposed_launch, transposed_select_variant,
                    transposed_variant_entry, M, N, 0);
      shiftedDouble("index_map_xor_pieces", "xor_pieces", xor_pieces_launch, xor_pieces_select_variant,
                    xor_pieces_variant_entry, M, N, 2);
    }
  }
  for (auto [M, N] : shapes)
    for (size_t offset : {size_t(0), size_t(4)}) {
      paddedFlat(M, N, offset);
      laidOutViews(M, N, offset);
    }
  return finish();
}
