// ThreadLayout: bijection check and bit-field inverse of a Fragment layout.
#include "ir/ThreadLayout.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace tlc::ir {

LayoutProblem checkBijection(int64_t threads, const std::vector<int64_t>& thread, const std::vector<int64_t>& index) {
  LayoutProblem p;
  int64_t maxIndex = -1;
  for (size_t f = 0; f < thread.size(); ++f) {
    if (thread[f] < 0 || thread[f] >= threads) {
      p.kind = LayoutProblem::ThreadOutOfRange;
      p.flat = (int64_t)f;
      p.thread = thread[f];
      p.index = index[f];
      return p;
    }
    if (index[f] < 0) {
      p.kind = LayoutProblem::NegativeIndex;
      p.flat = (int64_t)f;
      p.thread = thread[f];
      p.index = index[f];
      return p;
    }
    maxIndex = std::max(maxIndex, index[f]);
  }
  p.localSize = maxIndex + 1;
  // The first iteration, in row-major order, whose slot an earlier one took.
  std::unordered_map<int64_t, int64_t> owner;  // slot -> iteration
  owner.reserve(thread.size() * 2);
  std::vector<int64_t> count(threads, 0);
  for (size_t f = 0; f < thread.size(); ++f) {
    // index <= maxIndex < N, thread < T: the key cannot overflow for any tabulated layout.
    int64_t key = thread[f] * (maxIndex + 1) + index[f];
    auto [it, fresh] = owner.emplace(key, (int64_t)f);
    if (!fresh) {
      p.kind = LayoutProblem::Collision;
      p.flat = (int64_t)f;
      p.other = it->second;
      p.thread = thread[f];
      p.index = index[f];
      return p;
    }
    ++count[thread[f]];
  }
  // No collisions: a gap exists exactly when some thread holds fewer than S slots.
  for (int64_t t = 0; t < threads; ++t) {
    if (count[t] == p.localSize) continue;
    std::vector<int64_t> held;
    for (size_t f = 0; f < thread.size(); ++f)
      if (thread[f] == t) held.push_back(index[f]);
    std::sort(held.begin(), held.end());
    int64_t missing = 0;
    while (missing < (int64_t)held.size() && held[missing] == missing) ++missing;
    p.kind = LayoutProblem::Gap;
    p.thread = t;
    p.index = missing;
    return p;
  }
  return p;
}

std::vector<int64_t> rankWithinThread(const std::vector<int64_t>& thread) {
  std::map<int64_t, int64_t> next;
  std::vector<int64_t> out(thread.size());
  for (size_t f = 0; f < thread.size(); ++f) out[f] = next[thread[f]]++;
  return out;
}

std::optional<BitLinear> fitBitLinear(int64_t threads, const std::function<int64_t(int64_t)>& f) {
  BitLinear form;
  form.constant = f(0);
  // One coefficient per bit of t: what setting that bit alone adds.
  std::vector<int64_t> coef;
  for (int b = 0; (int64_t(1) << b) < threads; ++b) coef.push_back(f(int64_t(1) << b) - form.constant);
  for (int64_t t = 0; t < threads; ++t) {
    int64_t v = form.constant;
    for (size_t b = 0; b < coef.size(); ++b)
      if (t >> b & 1) v += coef[b];
    if (v != f(t)) return std::nullopt;
  }
  // Consecutive bits whose coefficients double form one field: ((t >> s) & mask) * c.
  for (size_t b = 0; b < coef.size();) {
    if (coef[b] == 0) {
      ++b;
      continue;
    }
    size_t e = b + 1;
    while (e < coef.size() && coef[e] == coef[b] * (int64_t(1) << (e - b))) ++e;
    form.fields.push_back(BitField{(int)b, (int64_t(1) << (e - b)) - 1, coef[b]});
    b = e;
  }
  return form;
}

bool layoutRunsContiguous(const ThreadLayout& layout, int64_t width) {
  if (width <= 1) return true;
  if (layout.localSize % width != 0 || layout.inverse.size() != (size_t)layout.localSize) return false;
  int inner = -1;
  for (size_t d = 0; d < layout.shape.size(); ++d)
    if (layout.shape[d] != 1) inner = (int)d;
  if (inner < 0) return false;
  auto sameFields = [](const BitLinear& a, const BitLinear& b) {
    if (a.fields.size() != b.fields.size()) return false;
    for (size_t i = 0; i < a.fields.size(); ++i)
      if (a.fields[i].shift != b.fields[i].shift || a.fields[i].mask != b.fields[i].mask ||
          a.fields[i].coef != b.fields[i].coef)
        return false;
    return true;
  };
  for (int64_t k = 0; k < layout.localSize; k += width) {
    const BitLinear& first = layout.inverse[k][inner];
    // Every thread's start is a multiple of width: the constant and every coefficient are.
    if (first.constant % width != 0) return false;
    for (const auto& f : first.fields)
      if (f.coef % width != 0) return false;
    for (int64_t l = 1; l < width; ++l)
      for (size_t d = 0; d < layout.shape.size(); ++d) {
        const BitLinear& a = layout.inverse[k][d];
        const BitLinear& b = layout.inverse[k + l][d];
        if (!sameFields(a, b) || b.constant != a.constant + ((int)d == inner ? l : 0)) return false;
      }
  }
  return true;
}

ExprRef bitLinearExpr(const BitLinear& form, const ExprRef& t, int64_t threads) {
  ExprRef v = intImm(form.constant);
  for (const auto& field : form.fields) {
    ExprRef bitsOf = field.shift ? binary(BinOp::Shr, t, intImm(field.shift)) : t;
    if (((threads - 1) >> field.shift) > field.mask) bitsOf = binary(BinOp::BitAnd, bitsOf, intImm(field.mask));
    ExprRef term = field.coef == 1 ? bitsOf : mul(bitsOf, intImm(field.coef));
    v = add(term, v);
  }
  return v;
}

}  // namespace tlc::ir
