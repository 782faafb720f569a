// ThreadLayout: the checks and the inverse of a `Fragment` thread layout, pure
// functions over tabulated maps (sema evaluates the user's lambdas at every
// iteration; these decide what the tables mean).
//
// A layout over N iterations for T threads is valid when it is a bijection onto
// T x S slots (thread, local index), S = the largest local index + 1: every thread
// in [0, T), every index >= 0, no two iterations on one slot (a collision) and no
// slot without an iteration (a gap).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "ir/IR.h"

namespace tlc::ir {

struct LayoutProblem {
  enum Kind {
    None,
    ThreadOutOfRange,  // iteration `flat` maps to `thread`, outside [0, T)
    NegativeIndex,     // iteration `flat` maps to local index `index` < 0
    Collision,         // iterations `other` and `flat` (other < flat) share (thread, index)
    Gap,               // no iteration maps to (thread, index)
  } kind = None;
  int64_t flat = -1, other = -1;
  int64_t thread = 0, index = 0;
  int64_t localSize = 0;  // S, also set when the layout is valid
};

// `thread[f]`, `index[f]` per iteration f.
LayoutProblem checkBijection(int64_t threads, const std::vector<int64_t>& thread, const std::vector<int64_t>& index);

// The default local index when a layout gives none: each thread numbers its
// iterations in row-major order.
std::vector<int64_t> rankWithinThread(const std::vector<int64_t>& thread);

// `f(t)` for t in [0, threads) as constant + sum of digit fields of t (ir::BitLinear):
// the digits are t's bits, or, for a thread count with an odd factor q, bits and one
// digit of radix q at some position; nullopt when no such form reproduces every value.
std::optional<BitLinear> fitBitLinear(int64_t threads, const std::function<int64_t(int64_t)>& f);

// True when, for every thread, local indices k .. k + width - 1 (k a multiple of
// width) name `width` consecutive elements along the layout's innermost non-unit
// axis, starting at a multiple of width (from its inverse): a copy following the
// layout may then move them as one vector.
bool layoutRunsContiguous(const ThreadLayout& layout, int64_t width);

// The expression `value(t)` for a fitted form, t in [0, threads) (a mask that
// keeps every bit t can have is left out).
ExprRef bitLinearExpr(const BitLinear& form, const ExprRef& t, int64_t threads);

}  // namespace tlc::ir
