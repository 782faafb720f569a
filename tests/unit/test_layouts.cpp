// Unit tests for Fragment thread layouts: the bijection check, the default local
// index, the digit-field inverse, and evalInt (how sema tabulates a lambda).
#include <doctest/doctest.h>

#include "ir/IR.h"
#include "ir/ThreadLayout.h"

using namespace tlc::ir;

namespace {

// Tabulates (thread, index) over a row-major (rows, cols) iteration space.
struct Table {
  std::vector<int64_t> thread, index;
};
template <class T, class I>
Table tabulate(int64_t rows, int64_t cols, T threadFn, I indexFn) {
  Table t;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      t.thread.push_back(threadFn(i, j));
      t.index.push_back(indexFn(i, j));
    }
  return t;
}

}  // namespace

TEST_CASE("the spec's strip layout is a bijection onto 256 threads x 4") {
  auto t = tabulate(32, 32, [](int64_t i, int64_t j) { return (i / 4) * 32 + j; }, [](int64_t i, int64_t) { return i % 4; });
  LayoutProblem p = checkBijection(256, t.thread, t.index);
  CHECK(p.kind == LayoutProblem::None);
  CHECK(p.localSize == 4);
}

TEST_CASE("a collision names the first iteration whose slot an earlier one took") {
  // thread = j, index = i % 4: rows 0 and 4 share every slot.
  auto t = tabulate(32, 32, [](int64_t, int64_t j) { return j; }, [](int64_t i, int64_t) { return i % 4; });
  LayoutProblem p = checkBijection(256, t.thread, t.index);
  REQUIRE(p.kind == LayoutProblem::Collision);
  CHECK(p.other == 0);       // (0, 0)
  CHECK(p.flat == 4 * 32);   // (4, 0)
  CHECK(p.thread == 0);
  CHECK(p.index == 0);
}

TEST_CASE("a gap names a slot nobody maps to") {
  // Even local indices only: index 1 of thread 0 is empty.
  auto t = tabulate(32, 32, [](int64_t i, int64_t j) { return (i / 4) * 32 + j; },
                    [](int64_t i, int64_t) { return (i % 4) * 2; });
  LayoutProblem p = checkBijection(256, t.thread, t.index);
  REQUIRE(p.kind == LayoutProblem::Gap);
  CHECK(p.thread == 0);
  CHECK(p.index == 1);
  CHECK(p.localSize == 7);
}

TEST_CASE("a gap also when some threads get no iteration at all") {
  // 128 iterations on 256 threads, one each: threads 128..255 are empty.
  std::vector<int64_t> thread, index;
  for (int64_t f = 0; f < 128; ++f) {
    thread.push_back(f);
    index.push_back(0);
  }
  LayoutProblem p = checkBijection(256, thread, index);
  REQUIRE(p.kind == LayoutProblem::Gap);
  CHECK(p.thread == 128);
  CHECK(p.index == 0);
}

TEST_CASE("a thread outside the block, or a negative index, is reported first, at its iteration") {
  auto t = tabulate(32, 32, [](int64_t i, int64_t j) { return i * 32 + j; }, [](int64_t, int64_t) { return 0; });
  LayoutProblem p = checkBijection(256, t.thread, t.index);
  REQUIRE(p.kind == LayoutProblem::ThreadOutOfRange);
  CHECK(p.flat == 8 * 32);
  CHECK(p.thread == 256);

  auto n = tabulate(4, 4, [](int64_t, int64_t j) { return j; }, [](int64_t i, int64_t) { return i - 1; });
  p = checkBijection(4, n.thread, n.index);
  REQUIRE(p.kind == LayoutProblem::NegativeIndex);
  CHECK(p.flat == 0);
  CHECK(p.index == -1);
}

TEST_CASE("without index=, each thread numbers its iterations in row-major order") {
  std::vector<int64_t> thread = {0, 1, 0, 1, 2, 0};
  CHECK(rankWithinThread(thread) == std::vector<int64_t>{0, 0, 1, 1, 0, 2});
  // Uneven counts leave a gap.
  LayoutProblem p = checkBijection(3, thread, rankWithinThread(thread));
  REQUIRE(p.kind == LayoutProblem::Gap);
  CHECK(p.thread == 1);
  CHECK(p.index == 2);
}

TEST_CASE("the bit-field inverse reproduces the strip layout and rejects a multiplicative one") {
  // Row of thread t at local index k in the strip layout: 4 * (t >> 5) + k; column t & 31.
  for (int64_t k = 0; k < 4; ++k) {
    auto row = fitBitLinear(256, [&](int64_t t) { return 4 * (t / 32) + k; });
    REQUIRE(row);
    CHECK(row->constant == k);
    REQUIRE(row->fields.size() == 1);
    CHECK(row->fields[0].divisor == 32);
    CHECK(row->fields[0].modulus == 8);
    CHECK(row->fields[0].coef == 4);
  }
  auto col = fitBitLinear(256, [](int64_t t) { return t % 32; });
  REQUIRE(col);
  REQUIRE(col->fields.size() == 1);
  CHECK(col->fields[0].divisor == 1);
  CHECK(col->fields[0].modulus == 32);
  CHECK(col->fields[0].coef == 1);
  // Its expression: t & 31, with the mask kept, and (t >> 5) * 4 with it dropped
  // (t < 256 has no bits above the field).
  auto t = makeVar("t", DType::Int32);
  CHECK(toString(bitLinearExpr(*col, t, 256)) == "(t & 31)");
  auto row = fitBitLinear(256, [](int64_t t) { return 4 * (t / 32); });
  CHECK(toString(bitLinearExpr(*row, t, 256)) == "((t >> 5) * 4)");
  // t * 171 % 256 (the inverse of multiplying by 3) is no sum of digit fields.
  CHECK_FALSE(fitBitLinear(256, [](int64_t t) { return t * 171 % 256; }));
  // 96 threads = 3 x 32: t % 3 and t // 3 need a digit of radix 3 (at the bottom).
  auto low = fitBitLinear(96, [](int64_t t) { return t % 3; });
  REQUIRE(low);
  CHECK(toString(bitLinearExpr(*low, t, 96)) == "(t % 3)");
  auto high = fitBitLinear(96, [](int64_t t) { return t / 3; });
  REQUIRE(high);
  CHECK(toString(bitLinearExpr(*high, t, 96)) == "(t // 3)");
  auto mixed = fitBitLinear(96, [](int64_t t) { return (t / 32) * 100 + (t % 32) * 3; });  // radix 3 on top
  REQUIRE(mixed);
  for (int64_t v = 0; v < 96; ++v) CHECK(evalInt(bitLinearExpr(*mixed, t, 96), {{t.get(), v}}) == (v / 32) * 100 + (v % 32) * 3);
  // Not a power of two: 96 threads, value t (one field, masks kept where needed).
  auto lin = fitBitLinear(96, [](int64_t t) { return t; });
  REQUIRE(lin);
  for (int64_t v = 0; v < 96; ++v) {
    auto e = bitLinearExpr(*lin, t, 96);
    CHECK(evalInt(e, {{t.get(), v}}) == v);
  }
}

TEST_CASE("evalInt follows the IR's floor semantics and refuses what it cannot evaluate") {
  auto i = makeVar("i", DType::Int32);
  auto e = binary(BinOp::FloorDiv, i, intImm(3));  // not a power of two: no shift rewrite
  CHECK(evalInt(e, {{i.get(), -7}}) == -3);
  CHECK(evalInt(binary(BinOp::FloorMod, i, intImm(3)), {{i.get(), -7}}) == 2);
  CHECK_FALSE(evalInt(binary(BinOp::FloorDiv, intImm(1), sub(i, i)), {{i.get(), 5}}));  // 1 // 0
  CHECK_FALSE(evalInt(mul(i, intImm(1 << 20)), {{i.get(), 1 << 12}}));  // int32 overflow
  auto j = makeVar("j", DType::Int32);
  CHECK_FALSE(evalInt(add(i, j), {{i.get(), 1}}));  // j is not given
}

TEST_CASE("layoutRunsContiguous: runs of consecutive elements along the innermost axis") {
  // thread = i * 8 + j // 8, index = j % 8 over (32, 64) on 256 threads: runs of 8.
  ThreadLayout rows;
  rows.shape = {32, 64};
  rows.threads = 256;
  rows.localSize = 8;
  for (int64_t k = 0; k < 8; ++k) {
    auto i = fitBitLinear(256, [](int64_t t) { return t / 8; });
    auto j = fitBitLinear(256, [&](int64_t t) { return (t % 8) * 8 + k; });
    REQUIRE(i);
    REQUIRE(j);
    rows.inverse.push_back({*i, *j});
  }
  CHECK(layoutRunsContiguous(rows, 8));
  CHECK(layoutRunsContiguous(rows, 4));
  CHECK_FALSE(layoutRunsContiguous(rows, 16));  // only 8 local indices
  // The strip layout's local indices walk rows: no run along j.
  ThreadLayout strips;
  strips.shape = {32, 32};
  strips.threads = 256;
  strips.localSize = 4;
  for (int64_t k = 0; k < 4; ++k)
    strips.inverse.push_back({*fitBitLinear(256, [&](int64_t t) { return 4 * (t / 32) + k; }),
                              *fitBitLinear(256, [](int64_t t) { return t % 32; })});
  CHECK(layoutRunsContiguous(strips, 1));
  CHECK_FALSE(layoutRunsContiguous(strips, 2));
  // A run that starts off a multiple of the width (j = 2 * t + k + 1) cannot be one vector.
  ThreadLayout shifted;
  shifted.shape = {64};
  shifted.threads = 16;
  shifted.localSize = 2;
  for (int64_t k = 0; k < 2; ++k) shifted.inverse.push_back({*fitBitLinear(16, [&](int64_t t) { return 2 * t + k + 1; })});
  CHECK_FALSE(layoutRunsContiguous(shifted, 2));
}
