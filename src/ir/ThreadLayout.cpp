// ThreadLayout: bijection check and digit-field inverse (mixed radix) of a Fragment layout.
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
  // The first iteration, in row-major order, whose slot an earlier one took. The slots
  // are a table (of iteration numbers, fewer than 2^31: a layout covers at most
  // threads x 4096) when there are not many more of them than iterations, as in every
  // layout that can be a bijection (T x S slots for T x S iterations); a hash map
  // otherwise (a stray large index). A layout of a million iterations took a tenth of
  // a second in the hash map alone.
  // index <= maxIndex < 2^31, thread < T: the key cannot overflow for any tabulated layout.
  const int64_t slots = threads * (maxIndex + 1);
  const bool dense = slots <= 2 * (int64_t)thread.size() + 1024;
  std::vector<int32_t> table(dense ? slots : 0, -1);
  std::unordered_map<int64_t, int64_t> owner;  // slot -> iteration, when not dense
  if (!dense) owner.reserve(thread.size() * 2);
  std::vector<int64_t> count(threads, 0);
  for (size_t f = 0; f < thread.size(); ++f) {
    int64_t key = thread[f] * (maxIndex + 1) + index[f];
    int64_t earlier = -1;
    if (dense) {
      if (table[key] >= 0) earlier = table[key];
      else table[key] = (int32_t)f;
    } else {
      auto [it, fresh] = owner.emplace(key, (int64_t)f);
      if (!fresh) earlier = it->second;
    }
    if (earlier >= 0) {
      p.kind = LayoutProblem::Collision;
      p.flat = (int64_t)f;
      p.other = earlier;
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

namespace {

// f as constant + sum of digit_i(t) * coef_i for the mixed-radix digits `radices`
// (least significant first), verified at every t < threads.
std::optional<BitLinear> fitDigits(int64_t threads, const std::vector<int64_t>& radices,
                                   const std::function<int64_t(int64_t)>& f) {
  BitLinear form;
  form.constant = f(0);
  std::vector<int64_t> stride, coef;
  int64_t s = 1;
  for (int64_t r : radices) {
    stride.push_back(s);
    coef.push_back(s < threads ? f(s) - form.constant : 0);
    s *= r;
  }
  // The form's value at t, kept by a mixed-radix counter of t's digits (a division per
  // digit and thread was most of the time of a Fragment layout's 4096 x 256 fits).
  // The digits wrap after the last one, as t / stride % radix does.
  std::vector<int64_t> digit(radices.size(), 0);
  int64_t v = form.constant;
  for (int64_t t = 0; t < threads; ++t) {
    if (v != f(t)) return std::nullopt;
    for (size_t i = 0; i < radices.size(); ++i) {
      if (++digit[i] < radices[i]) {
        v += coef[i];
        break;
      }
      v -= coef[i] * (radices[i] - 1);
      digit[i] = 0;
    }
  }
  // Consecutive digits whose coefficients grow by their radix form one field.
  for (size_t b = 0; b < radices.size();) {
    if (coef[b] == 0) {
      ++b;
      continue;
    }
    size_t e = b + 1;
    int64_t modulus = radices[b];
    while (e < radices.size() && coef[e] == coef[e - 1] * radices[e - 1]) modulus *= radices[e++];
    form.fields.push_back(BitField{stride[b], modulus, coef[b]});
    b = e;
  }
  return form;
}

}  // namespace

std::optional<BitLinear> fitBitLinear(int64_t threads, const std::function<int64_t(int64_t)>& f) {
  int twos = 0;
  while ((int64_t(1) << twos) < threads) ++twos;
  if (auto form = fitDigits(threads, std::vector<int64_t>(twos, 2), f)) return form;
  // A thread count 2^k * q (q odd > 1): one digit of radix q among k binary digits.
  int64_t odd = threads;
  int k = 0;
  while (odd % 2 == 0) odd /= 2, ++k;
  if (odd == 1) return std::nullopt;
  for (int at = 0; at <= k; ++at) {
    std::vector<int64_t> radices(k, 2);
    radices.insert(radices.begin() + at, odd);
    if (auto form = fitDigits(threads, radices, f)) return form;
  }
  return std::nullopt;
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
      if (a.fields[i].divisor != b.fields[i].divisor || a.fields[i].modulus != b.fields[i].modulus ||
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
    // Powers of two fold to shifts and masks (ir::binary).
    ExprRef digits = field.divisor == 1 ? t : floorDiv(t, intImm(field.divisor));
    if ((threads - 1) / field.divisor >= field.modulus) digits = floorMod(digits, intImm(field.modulus));
    ExprRef term = field.coef == 1 ? digits : mul(digits, intImm(field.coef));
    v = add(term, v);
  }
  return v;
}

}  // namespace tlc::ir
