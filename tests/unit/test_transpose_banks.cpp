// Unit tests for the transpose plan and the swizzle of its destination tile
// (lower/LayoutSharedTiles): a model of Hopper's shared-memory banks checks that the
// transpose's reads and writes, and a row-wise reader of the destination (the SIMT /
// cp.async copies), are free of bank conflicts, and that the swizzle is a permutation.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <set>
#include <vector>

#include "ir/IR.h"
#include "lower/LayoutSharedTiles.h"

using namespace tlc;
using namespace tlc::ir;

namespace {

// One warp-wide shared access: per thread (absent = inactive) the byte address of
// an access of `bytes` bytes. Accesses of 16 bytes are served a quarter warp at a
// time, of 8 bytes a half warp, narrower ones the whole warp; within a phase each
// of the 32 four-byte banks delivers one word per cycle (threads reading the same
// word share it). Returns the worst number of distinct words any bank must serve
// in one phase: 1 = conflict free.
int bankWays(const std::map<int, int64_t>& addressOf, int bytes) {
  int phase = bytes >= 16 ? 8 : bytes == 8 ? 16 : 32;
  int worst = 0;
  for (int first = 0; first < 32; first += phase) {
    std::map<int64_t, std::set<int64_t>> words;  // bank -> distinct words
    for (int t = first; t < first + phase; ++t) {
      auto it = addressOf.find(t);
      if (it == addressOf.end()) continue;
      for (int64_t w = it->second / 4; w < (it->second + std::max(bytes, 1) + 3) / 4; ++w) words[w % 32].insert(w);
    }
    for (const auto& [bank, set] : words) worst = std::max(worst, (int)set.size());
  }
  return worst;
}

struct Config {
  DType dtype;
  int64_t m, n;  // source tile (m, n), destination (n, m)
  int threads;
};

struct Worst {
  int read = 0, write = 0, reader = 0;
};

// Runs the transpose plan and a row-wise copy out of the destination through the
// bank model, warp by warp.
Worst simulate(const Config& c) {
  TransposePlan plan = planTranspose(c.dtype, {c.m, c.n}, c.threads);
  SharedLayout layout = transposeDstLayout(plan, c.dtype, c.m);
  int e = bits(c.dtype) / 8;
  int v = plan.vec;
  Worst worst;
  int64_t iterations = (plan.blocks() + c.threads - 1) / c.threads;
  for (int64_t it = 0; it < iterations; ++it)
    for (int warp = 0; warp < c.threads / 32; ++warp)
      for (int k = 0; k < v; ++k) {
        std::map<int, int64_t> reads, writes;
        for (int lane = 0; lane < 32; ++lane) {
          int64_t b = it * c.threads + warp * 32 + lane;
          if (b >= plan.blocks()) continue;
          int64_t bc = b % plan.colBlocks, br = b / plan.colBlocks;
          reads[lane] = ((br * v + k) * c.n + bc * v) * e;  // source: row-major
          int64_t row = bc * v + k;
          writes[lane] = (row * c.m + swizzledColumn(layout, row, br * v)) * e;
        }
        worst.read = std::max(worst.read, bankWays(reads, v * e));
        worst.write = std::max(worst.write, bankWays(writes, v * e));
      }
  // The reader: consecutive threads take consecutive vectors of a row, as the SIMT
  // copy does, as wide as the swizzle keeps contiguous (at most 16 bytes).
  int w = std::max(1, 16 / e);
  if (layout.permutesPieces()) w = std::min(w, layout.unit);
  int64_t vectors = c.n * c.m / w;
  for (int64_t first = 0; first < vectors; first += 32) {
    std::map<int, int64_t> reads;
    for (int lane = 0; lane < 32 && first + lane < vectors; ++lane) {
      int64_t flat = (first + lane) * w, row = flat / c.m, col = flat % c.m;
      reads[lane] = (row * c.m + swizzledColumn(layout, row, col)) * e;
    }
    worst.reader = std::max(worst.reader, bankWays(reads, w * e));
  }
  return worst;
}

}  // namespace

TEST_CASE("bank model: known patterns") {
  std::map<int, int64_t> rowOf16, columnOf16;
  for (int t = 0; t < 32; ++t) {
    rowOf16[t] = t * 16;            // consecutive 16-byte vectors
    columnOf16[t] = t * 256;        // one per 256-byte row: 8 threads on the same banks
  }
  CHECK(bankWays(rowOf16, 16) == 1);
  CHECK(bankWays(columnOf16, 16) == 8);
  std::map<int, int64_t> sameWord;
  for (int t = 0; t < 32; ++t) sameWord[t] = 0;
  CHECK(bankWays(sameWord, 4) == 1);  // a broadcast
}

TEST_CASE("transpose plan: every thread gets a micro-block, vectors up to 16 bytes") {
  CHECK(planTranspose(DType::Float32, {64, 64}, 256).vec == 4);   // 256 blocks of 4x4
  CHECK(planTranspose(DType::Float16, {64, 64}, 256).vec == 4);   // 8x8 would leave 192 threads idle
  CHECK(planTranspose(DType::Float16, {128, 128}, 256).vec == 8);
  CHECK(planTranspose(DType::Float32, {64, 64}, 1024).vec == 2);
  CHECK(planTranspose(DType::Float32, {3, 5}, 128).vec == 1);      // nothing divides
  CHECK(planTranspose(DType::Float32, {64, 64}, 256, /*maxVec=*/2).vec == 2);
  auto batched = planTranspose(DType::Float32, {2, 3, 32, 64}, 128);
  CHECK(batched.batch == 6);
  CHECK(batched.vec == 4);
}

TEST_CASE("swizzle of the destination is a permutation of each row") {
  for (auto dtype : {DType::Float32, DType::Float16, DType::Int8}) {
    auto plan = planTranspose(dtype, {64, 64}, 256);
    auto l = transposeDstLayout(plan, dtype, 64);
    REQUIRE(l.permutesPieces());
    for (int64_t row = 0; row < 64; ++row) {
      std::set<int64_t> cols;
      for (int64_t c = 0; c < 64; ++c) {
        int64_t p = swizzledColumn(l, row, c);
        CHECK(p >= 0);
        CHECK(p < 64);
        CHECK(p % l.unit == c % l.unit);  // pieces stay contiguous
        cols.insert(p);
      }
      CHECK(cols.size() == 64);
    }
  }
}

TEST_CASE("transpose and its readers are free of bank conflicts") {
  const Config configs[] = {
      {DType::Float32, 64, 64, 256},  {DType::Float16, 64, 64, 256},  {DType::Float16, 128, 128, 256},
      {DType::Float32, 32, 32, 128},  {DType::Float16, 64, 64, 128},  {DType::Float32, 64, 128, 256},
      {DType::Float32, 128, 64, 256}, {DType::BFloat16, 64, 128, 128}, {DType::Int8, 128, 128, 256},
      {DType::Float64, 32, 32, 256},  {DType::Float32, 64, 64, 1024}, {DType::Float64, 64, 64, 128},
  };
  for (const auto& c : configs) {
    std::string dtype = name(c.dtype);
    CAPTURE(dtype);
    CAPTURE(c.m);
    CAPTURE(c.n);
    CAPTURE(c.threads);
    Worst w = simulate(c);
    CHECK(w.read == 1);
    CHECK(w.write == 1);
    CHECK(w.reader == 1);
  }
}

TEST_CASE("rows narrower than the 128 bytes of the banks: at most 2-way") {
  // int8 64x64: 4x4 blocks (4-byte accesses, a whole warp per phase) over rows of
  // 64 bytes, two to a bank line: a row-internal swizzle cannot separate them.
  Worst w = simulate({DType::Int8, 64, 64, 256});
  CHECK(w.write <= 2);
  CHECK(w.read <= 2);
}

TEST_CASE("without the swizzle the writes would conflict (the model sees it)") {
  // The same column-wise writes on a row-major tile: 8 threads of a phase on one bank group.
  std::map<int, int64_t> writes;
  for (int lane = 0; lane < 32; ++lane) writes[lane] = (int64_t)(lane % 16) * 4 * 64 * 4;
  CHECK(bankWays(writes, 16) == 8);
}

// ------------------------------------------------------------------------------
// annotate_layout's TMA swizzles (ir::SharedLayout::swizzleBytes).

namespace {

// CUTLASS's Swizzle<B, 4, 3> on byte offsets: the pattern of CU_TENSOR_MAP_SWIZZLE_{32,64,128}B.
int64_t cuteSwizzle(int b, int64_t byteOffset) {
  int64_t mask = ((int64_t(1) << b) - 1) << 7;
  return byteOffset ^ ((byteOffset & mask) >> 3);
}

}  // namespace

TEST_CASE("swizzled(t, S) is TMA's Sw<b,4,3> on the byte offset") {
  for (int span : {32, 64, 128}) {
    int b = span == 32 ? 1 : span == 64 ? 2 : 3;
    for (DType t : {DType::Int8, DType::Float16, DType::Float32, DType::Float64}) {
      SharedLayout l;
      l.swizzleBytes = span;
      int64_t e = bits(t) / 8;
      std::set<int64_t> seen;
      for (int64_t linear = 0; linear < 4096 / e; ++linear) {
        int64_t got = sharedElementOffset(l, t, linear, 0, 0);
        CHECK(got * e == cuteSwizzle(b, linear * e));
        seen.insert(got);
      }
      CHECK(seen.size() == size_t(4096 / e));  // a permutation of the tile
    }
  }
}

TEST_CASE("swizzled(t, 128): a 16-byte column read of 8 rows is conflict free") {
  // fp16 64x64 (128-byte rows): thread t of a phase reads chunk c of row t, as
  // ldmatrix and column-wise readers do. Row-major: all 8 on one bank group.
  SharedLayout l;
  l.swizzleBytes = 128;
  for (int64_t c = 0; c < 8; ++c) {
    std::map<int, int64_t> plain, swizzled;
    for (int lane = 0; lane < 32; ++lane) {
      int64_t row = lane, linear = row * 64 + c * 8;
      plain[lane] = linear * 2;
      swizzled[lane] = sharedElementOffset(l, DType::Float16, linear, row, c * 8) * 2;
    }
    CHECK(bankWays(plain, 16) == 8);
    CHECK(bankWays(swizzled, 16) == 1);
  }
}

TEST_CASE("a transpose's piece swizzle over 128-byte rows of 16-byte pieces is TMA's 128B swizzle") {
  // fp32 rows of 32 elements (128 bytes), V = 4: col ^ ((row / 4) % 8) * 4 is not
  // Sw<3,4,3> (which keys on row % 8): the compiler is right to refuse TMA for it.
  auto plan = planTranspose(DType::Float32, {32, 32}, 64);
  SharedLayout pieces = transposeDstLayout(plan, DType::Float32, 32);
  REQUIRE(pieces.permutesPieces());
  SharedLayout tma;
  tma.swizzleBytes = 128;
  bool differ = false;
  for (int64_t row = 0; row < 32; ++row)
    for (int64_t col = 0; col < 32; ++col)
      differ |= sharedElementOffset(pieces, DType::Float32, row * 32 + col, row, col) !=
                sharedElementOffset(tma, DType::Float32, row * 32 + col, row, col);
  CHECK(differ);
}
