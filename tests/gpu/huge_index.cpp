// huge_index: tensors at and past 2^31 elements (tests/gpu/kernels/huge_index.tl,
// issue 17: index arithmetic in int64 where int32 would wrap).
//
// Each element's bits are a function of its flat index that changes with the index's
// high bits too (pattern32 / pattern16 below), so a read from the wrong place, 2^32
// elements off included, gives the wrong bits. Outputs are poisoned (0xFF) and compared
// with the pattern element by element, every element (the ends, the 2^31 boundary and
// the last blocks among them), in chunks on the host; the guard zones around every
// buffer must be intact. The launches are not timed (each shape takes seconds).
// Shapes the launcher must refuse: the CUresult, the message naming the argument, and
// nothing written. A device with too little free memory gets SKIP rows. A uint32
// extent of 3e9 must be copied whole, and a uint64 one of 2^34 + 37 (64 GiB a tensor,
// 128 GiB in all: an H200 runs it, an H100 skips it).
#include "harness.h"

#ifndef TLC_KERNEL_HEADER
#define TLC_KERNEL_HEADER "huge_index.h"
#endif
#include TLC_KERNEL_HEADER
#ifndef TLC_LAST_ERROR
#define TLC_LAST_ERROR huge_index_last_error
#endif

using namespace gpu_test;

namespace {

constexpr size_t kChunk = size_t(1) << 26;  // elements per host transfer

uint32_t pattern32(uint64_t i) {
  // Mixes all 64 bits: index i and i + 2^32 differ.
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  return uint32_t(x >> 32) ^ uint32_t(i >> 31);
}
uint16_t pattern16(uint64_t i) { return uint16_t(pattern32(i) >> 8); }

// Uploads pattern(i) for i in [0, count) into `buffer`, in chunks.
template <class Bits, class Pattern>
void uploadPattern(const DeviceBuffer& buffer, size_t count, Pattern pattern) {
  std::vector<Bits> host(std::min(count, kChunk));
  for (size_t start = 0; start < count; start += kChunk) {
    size_t n = std::min(kChunk, count - start);
    for (size_t j = 0; j < n; ++j) host[j] = pattern(start + j);
    CU_CHECK(cuMemcpyHtoD(buffer.ptr() + start * sizeof(Bits), host.data(), n * sizeof(Bits)));
  }
}

// Compares every element of `buffer` with pattern(i), in chunks.
template <class Bits, class Pattern>
void checkPattern(Checker& check, const DeviceBuffer& buffer, size_t count, Pattern pattern) {
  std::vector<Bits> host(std::min(count, kChunk));
  for (size_t start = 0; start < count; start += kChunk) {
    size_t n = std::min(kChunk, count - start);
    CU_CHECK(cuMemcpyDtoH(host.data(), buffer.ptr() + start * sizeof(Bits), n * sizeof(Bits)));
    for (size_t j = 0; j < n; ++j)
      if (host[j] != Bits(pattern(start + j))) check.addBits(start + j, host[j], Bits(pattern(start + j)));
  }
}

// B = A, n float32 elements, blocks of 1000.
void testCopy1d(int32_t n) {
  const std::string shape = shapeString({n}, "fp32");
  const size_t bytes = size_t(n) * 4;
  if (!haveDeviceMemory("huge_copy1d", shape, 2 * bytes)) return;
  Checker check;
  std::string entry;
  {
    DeviceBuffer a(bytes), b(bytes);
    uploadPattern<uint32_t>(a, size_t(n), pattern32);
    b.poison();
    entry = copy1d_variant_entry(copy1d_select_variant(a.ptr(), b.ptr(), n));
    if (launchAndWait(copy1d_launch(a.ptr(), b.ptr(), n, gpu().stream), check)) {
      checkPattern<uint32_t>(check, b, size_t(n), pattern32);
      if (!b.guardsIntact()) check.fail("wrote outside B");
      if (!a.guardsIntact()) check.fail("wrote outside A");
    }
  }
  reportChecked(untimedResult("huge_copy1d", shape, false, entry), check, false, nullptr);
}

// B = A, an unsigned extent n (float32, blocks of 256): `wide32` with a uint32 n past
// 2^31; `wide64` with a uint64 n past 2^34, whose two tensors hold 128 GiB, more than an
// H100 has (it gets a SKIP row; an H200 runs it). `select`, `variantEntry` and `launch`
// are the kernel's launcher functions.
template <class Extent, class Select, class Entry, class Launch>
void testWide(const char* name, const char* extentType, Extent n, Select select, Entry variantEntry, Launch launch) {
  const std::string shape = std::to_string(n) + " fp32 (" + extentType + " n)";
  const size_t bytes = size_t(n) * 4;
  if (!haveDeviceMemory(name, shape, 2 * bytes)) return;
  Checker check;
  std::string entry;
  {
    DeviceBuffer a(bytes), b(bytes);
    uploadPattern<uint32_t>(a, size_t(n), pattern32);
    b.poison();
    entry = variantEntry(select(a.ptr(), b.ptr(), n));
    if (launchAndWait(launch(a.ptr(), b.ptr(), n, gpu().stream), check)) {
      checkPattern<uint32_t>(check, b, size_t(n), pattern32);
      if (!b.guardsIntact()) check.fail("wrote outside B");
      if (!a.guardsIntact()) check.fail("wrote outside A");
    }
  }
  reportChecked(untimedResult(name, shape, false, entry), check, false, nullptr);
}

// C = A, (Bn, M, N) float16 (raw bits), tiles of 16 x 128.
void testCopy3d(int32_t Bn, int32_t M, int32_t N, const char* wantEntry) {
  const std::string shape = shapeString({Bn, M, N}, "fp16");
  const size_t count = size_t(Bn) * size_t(M) * size_t(N), bytes = count * 2;
  if (!haveDeviceMemory("huge_copy3d", shape, 2 * bytes)) return;
  Checker check;
  std::string entry;
  {
    DeviceBuffer a(bytes), c(bytes);
    uploadPattern<uint16_t>(a, count, pattern16);
    c.poison();
    entry = copy3d_variant_entry(copy3d_select_variant(a.ptr(), c.ptr(), Bn, M, N));
    expectVariant(entry.c_str(), wantEntry, shape, check);
    if (launchAndWait(copy3d_launch(a.ptr(), c.ptr(), Bn, M, N, gpu().stream), check)) {
      checkPattern<uint16_t>(check, c, count, pattern16);
      if (!c.guardsIntact()) check.fail("wrote outside C");
      if (!a.guardsIntact()) check.fail("wrote outside A");
    }
  }
  reportChecked(untimedResult("huge_copy3d", shape, false, entry), check, false, nullptr);
}

// Shapes no kernel may run: refused with a message naming the argument, nothing
// written (small poisoned buffers stand in for the tensors; they must stay untouched).
void testRefusals() {
  Checker check;
  DeviceBuffer a(1 << 20), b(1 << 20);
  a.poison();
  b.poison();
  CUstream s = gpu().stream;
  bool ok = true;
  // Each launch before its message is read (argument evaluation order is unspecified).
  auto refused = [&](const char* what, CUresult got, const char* launcher, std::initializer_list<std::string> want) {
    ok &= isRefusal(what, got, TLC_LAST_ERROR(), launcher, want);
  };
  CUresult got = wide64_launch(a.ptr(), b.ptr(), UINT64_MAX, s);
  refused("uint64 n = 2^64 - 1", got, "wide64_launch", {"argument 'n' = 18446744073709551615 exceeds 9223372036854775807"});
  got = wide64_launch(a.ptr(), b.ptr(), uint64_t(1) << 63, s);
  refused("uint64 n = 2^63", got, "wide64_launch", {"argument 'n' = 9223372036854775808 exceeds"});
  // 2^31 blocks of 256: one past the device's limit on x.
  got = wide64_launch(a.ptr(), b.ptr(), uint64_t(1) << 39, s);
  refused("uint64 n = 2^39", got, "wide64_launch",
          {"grid x = ceildiv(n, 256) = 2147483648 exceeds the device limit of 2147483647"});
  // 70000 planes: grid z past 65535.
  got = copy3d_launch(a.ptr(), b.ptr(), 70000, 16, 128, s);
  refused("B = 70000 planes", got, "copy3d_launch", {"grid z", "70000 exceeds the device limit of 65535"});
  // 2^64 elements: offsets past int64.
  got = copy4d_launch(a.ptr(), b.ptr(), 65536, 65536, 65536, 65536, s);
  refused("J = K = M = N = 65536", got, "copy4d_launch", {"tensor 'A' is too large"});
  if (!ok) check.fail("a launcher did not refuse as it should");
  if (!a.untouchedSincePoison()) check.fail("a refused launch wrote A");
  if (!b.untouchedSincePoison()) check.fail("a refused launch wrote B");
  reportChecked(untimedResult("huge_refused", "uint64 2^63, 2^31 blocks, grid z 70000, 2^64 elements", false), check,
                false, nullptr);
}

}  // namespace

int main() {
  std::printf("# huge_index on %s\n", gpu().name.c_str());
  testRefusals();
  testCopy1d(INT32_MAX);  // the last block: elements 2147483000 .. 2147483646 of 1000
  // A uint32 extent past 2^31 (it went negative in int32).
  testWide("huge_wide32", "uint32", uint32_t(3000000000u), wide32_select_variant, wide32_variant_entry, wide32_launch);
  // Planes of 46341^2 = 2147488281 > 2^31 elements; N odd: the general (SIMT) variant.
  testCopy3d(2, 46341, 46341, "copy3d");
  // N % 8 == 0: the aligned variant (TMA), planes of 46336 * 46352 > 2^31 elements.
  testCopy3d(2, 46336, 46352, "copy3d_aligned");
  // 2^34 + 37 elements, 64 GiB a tensor (the last block ragged): an H200's memory only.
  testWide("huge_wide64", "uint64", (uint64_t(1) << 34) + 37, wide64_select_variant, wide64_variant_entry, wide64_launch);
  return finish();
}
