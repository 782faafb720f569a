// GuardGlobalAccesses: see the header.
#include "lower/GuardGlobalAccesses.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "ir/Rewrite.h"

namespace tlc {
namespace {

using namespace ir;

// A symbol of a bound: a kernel parameter (div 1) or ceildiv(parameter, div).
struct Atom {
  const VarNode* var;
  int64_t div;
};
struct AtomLess {
  bool operator()(const Atom& a, const Atom& b) const {
    if (a.var != b.var) return ById{}(a.var, b.var);
    return a.div < b.div;
  }
};

// sum(coefficient * atom) + constant, exact integer arithmetic (nullopt on overflow).
struct Sym {
  std::map<Atom, int64_t, AtomLess> terms;
  int64_t constant = 0;
  bool numeric() const {
    for (const auto& [a, c] : terms)
      if (c) return false;
    return true;
  }
};
using OptSym = std::optional<Sym>;

OptSym number(int64_t v) {
  Sym s;
  s.constant = v;
  return s;
}

// a + k * b
OptSym combine(const OptSym& a, const OptSym& b, int64_t k) {
  if (!a || !b) return std::nullopt;
  Sym out = *a;
  int64_t p;
  if (__builtin_mul_overflow(b->constant, k, &p) || __builtin_add_overflow(out.constant, p, &out.constant))
    return std::nullopt;
  for (const auto& [atom, c] : b->terms) {
    if (__builtin_mul_overflow(c, k, &p) || __builtin_add_overflow(out.terms[atom], p, &out.terms[atom]))
      return std::nullopt;
  }
  return out;
}
OptSym scaled(const OptSym& a, int64_t k) { return combine(number(0), a, k); }

int64_t floorDivInt(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// [lo, hi]: either side may be unknown.
struct Range {
  OptSym lo, hi;
};
Range exact(const OptSym& s) { return {s, s}; }

// `a < b`, in the integers.
struct Fact {
  ExprRef a, b;
};

bool isSignedInt(const ExprRef& e) { return isInt(e->dtype) && isSigned(e->dtype) && e->lanes == 1; }

class Guarder {
 public:
  Guarder(Kernel& k, DiagnosticEngine& d) : kernel_(k), diags_(d) {}

  void run() {
    collectAssigned(kernel_.body);
    for (const auto& p : kernel_.params)
      if ((p.kind == ParamKind::Dim || p.kind == ParamKind::Scalar) && p.var && isSignedInt(p.var)) params_.insert(p.var.get());
    hooks_.load = [this](const LoadNode& l, std::vector<ExprRef> idx) { return load(l, std::move(idx)); };
    kernel_.body = stmt(kernel_.body);
  }

 private:
  Kernel& kernel_;
  DiagnosticEngine& diags_;
  RewriteHooks hooks_;
  VarSet assigned_;   // locals some AssignStmt updates: no range, no facts about them
  VarSet params_;     // integer parameters: symbols of bounds
  VarMap lets_;       // locals given one value: that value (itself expanded)
  std::map<const VarNode*, Range, ById> loopRanges_;
  std::vector<Fact> facts_;  // what holds at the current statement
  SourceRange at_;           // the statement being rewritten (for internal errors)

  void collectAssigned(const StmtRef& s) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq: for (const auto& c : s->as<SeqStmt>().stmts) collectAssigned(c); break;
      case StmtKind::For: collectAssigned(s->as<ForStmt>().body); break;
      case StmtKind::If: collectAssigned(s->as<IfStmt>().thenBody); collectAssigned(s->as<IfStmt>().elseBody); break;
      case StmtKind::Assign: assigned_.insert(s->as<AssignStmt>().var.get()); break;
      case StmtKind::Store:  // an atomic's old value is assigned to its local
        if (s->as<StoreStmt>().result) assigned_.insert(s->as<StoreStmt>().result.get());
        break;
      default: break;
    }
  }

  ExprRef expand(const ExprRef& e) const { return lets_.empty() ? e : substitute(e, lets_); }

  bool mentionsAssigned(const ExprRef& e) const {
    if (!e) return false;
    switch (e->kind) {
      case ExprKind::Var: return assigned_.count(&e->as<VarNode>()) != 0;
      case ExprKind::Binary: return mentionsAssigned(e->as<BinaryNode>().a) || mentionsAssigned(e->as<BinaryNode>().b);
      case ExprKind::Unary: return mentionsAssigned(e->as<UnaryNode>().a);
      case ExprKind::Cast: return mentionsAssigned(e->as<CastNode>().a);
      case ExprKind::Select:
        return mentionsAssigned(e->as<SelectNode>().cond) || mentionsAssigned(e->as<SelectNode>().t) ||
               mentionsAssigned(e->as<SelectNode>().f);
      case ExprKind::Call:
        for (const auto& a : e->as<CallNode>().args)
          if (mentionsAssigned(a)) return true;
        return false;
      case ExprKind::Load: return true;  // memory may change between the test and the access
      default: return false;
    }
  }

  // The facts `cond` (or, with !holds, its negation) gives, as `a < b` pairs.
  void factsOf(const ExprRef& cond, bool holds, std::vector<Fact>& out) const {
    if (!cond || cond->lanes != 1) return;
    if (cond->kind == ExprKind::Unary && cond->as<UnaryNode>().op == UnOp::Not) {
      factsOf(cond->as<UnaryNode>().a, !holds, out);
      return;
    }
    if (cond->kind != ExprKind::Binary) return;
    const auto& b = cond->as<BinaryNode>();
    if ((b.op == BinOp::And && holds) || (b.op == BinOp::Or && !holds)) {
      factsOf(b.a, holds, out);
      factsOf(b.b, holds, out);
      return;
    }
    if (!isSignedInt(b.a) || !isSignedInt(b.b) || mentionsAssigned(b.a) || mentionsAssigned(b.b)) return;
    ExprRef x = expand(b.a), y = expand(b.b);
    auto plus1 = [](const ExprRef& e) { return add(e, intImm(1, e->dtype)); };
    switch (b.op) {
      case BinOp::Lt: out.push_back(holds ? Fact{x, y} : Fact{y, plus1(x)}); break;
      case BinOp::Le: out.push_back(holds ? Fact{x, plus1(y)} : Fact{y, x}); break;
      case BinOp::Gt: out.push_back(holds ? Fact{y, x} : Fact{x, plus1(y)}); break;
      case BinOp::Ge: out.push_back(holds ? Fact{y, plus1(x)} : Fact{x, y}); break;
      case BinOp::Eq:
        if (holds) {
          out.push_back(Fact{x, plus1(y)});
          out.push_back(Fact{y, plus1(x)});
        }
        break;
      default: break;
    }
  }

  // ------------------------------------------------------------ ranges

  // Whether parameter `x` is a multiple of `m` for every launch of this variant
  // (an assumption the launcher tests, or a requirement it enforces).
  bool knownMultipleOf(const VarNode* x, int64_t m) const {
    if (m == 1) return true;
    for (const auto& a : kernel_.assumptions)
      if (a.param.get() == x && a.multiple % m == 0) return true;
    for (const auto& r : kernel_.requirements)
      if (r.value && r.value->kind == ExprKind::Var && &r.value->as<VarNode>() == x && r.multiple % m == 0) return true;
    return false;
  }

  // The largest power of two (up to 2^30) that divides `e` for every launch.
  int64_t pow2Multiple(const ExprRef& e) const {
    constexpr int64_t kCap = int64_t(1) << 30;
    if (auto c = asConstInt(e)) {
      if (*c == 0) return kCap;
      uint64_t v = uint64_t(*c);
      return std::min<int64_t>(int64_t(std::min<uint64_t>(v & (~v + 1), uint64_t(kCap))), kCap);  // lowest set bit
    }
    switch (e->kind) {
      case ExprKind::Var: {
        int64_t m = 1;
        while (m < kCap && knownMultipleOf(&e->as<VarNode>(), m * 2)) m *= 2;
        return m;
      }
      case ExprKind::Cast: return isInt(e->as<CastNode>().a->dtype) ? pow2Multiple(e->as<CastNode>().a) : 1;
      case ExprKind::Unary: return e->as<UnaryNode>().op == UnOp::Neg ? pow2Multiple(e->as<UnaryNode>().a) : 1;
      case ExprKind::Binary: {
        const auto& b = e->as<BinaryNode>();
        switch (b.op) {
          case BinOp::Add:
          case BinOp::Sub: return std::min(pow2Multiple(b.a), pow2Multiple(b.b));
          case BinOp::Mul: return std::min(pow2Multiple(b.a) * pow2Multiple(b.b), kCap);
          case BinOp::Shl:
            if (auto s = asConstInt(b.b); s && *s >= 0 && *s < 30) return std::min(pow2Multiple(b.a) << *s, kCap);
            return 1;
          case BinOp::Shr:
            if (auto k = asConstInt(b.b); k && *k >= 0 && *k < 30) return std::max<int64_t>(1, pow2Multiple(b.a) >> *k);
            return 1;
          case BinOp::FloorDiv:
            if (auto k = asConstInt(b.b); k && *k > 0 && (*k & (*k - 1)) == 0) return std::max<int64_t>(1, pow2Multiple(b.a) / *k);
            return 1;
          case BinOp::FloorMod:  // x - q * k: what divides both divides it
            if (auto k = asConstInt(b.b); k && *k > 0) return std::min(pow2Multiple(b.a), pow2Multiple(b.b));
            return 1;
          // x & y keeps only bits both have: low zero bits of either stay zero.
          case BinOp::BitAnd: return std::max(pow2Multiple(b.a), pow2Multiple(b.b));
          default: return 1;
        }
      }
      default: return 1;
    }
  }

  // Whether k divides e for every launch.
  bool multipleOf(const ExprRef& e, int64_t k) const {
    if (auto c = asConstInt(e)) return *c % k == 0;
    if (e->kind == ExprKind::Var && knownMultipleOf(&e->as<VarNode>(), k)) return true;
    return (k & (k - 1)) == 0 && pow2Multiple(e) % k == 0;
  }

  // floor(s / k) for k > 0, exactly, where every term divides.
  OptSym floorDivSym(const OptSym& s, int64_t k) const {
    if (!s) return std::nullopt;
    if (k == 1) return s;
    Sym out;
    for (const auto& [atom, c] : s->terms) {
      if (c == 0) continue;
      if (c % k == 0) {
        out.terms[atom] += c / k;
      } else if (atom.div == 1 && knownMultipleOf(atom.var, k)) {
        out.terms[Atom{atom.var, k}] += c;  // c * (x / k), and x / k == ceildiv(x, k)
      } else {
        return std::nullopt;
      }
    }
    out.constant = floorDivInt(s->constant, k);
    return out;
  }

  // ceildiv(x, k) as written by sema, -((-x) // k), with x a parameter.
  std::optional<Atom> ceildivAtom(const ExprRef& e) const {
    if (e->kind != ExprKind::Unary || e->as<UnaryNode>().op != UnOp::Neg) return std::nullopt;
    const ExprRef& q = e->as<UnaryNode>().a;
    if (q->kind != ExprKind::Binary) return std::nullopt;
    const auto& b = q->as<BinaryNode>();
    auto k = asConstInt(b.b);
    if (!k) return std::nullopt;
    int64_t div = 0;
    if (b.op == BinOp::FloorDiv && *k > 0) div = *k;
    if (b.op == BinOp::Shr && *k >= 0 && *k < 31) div = int64_t(1) << *k;
    if (!div || b.a->kind != ExprKind::Unary || b.a->as<UnaryNode>().op != UnOp::Neg) return std::nullopt;
    const ExprRef& x = b.a->as<UnaryNode>().a;
    if (x->kind != ExprKind::Var || !params_.count(&x->as<VarNode>())) return std::nullopt;
    return Atom{&x->as<VarNode>(), div};
  }

  // a - b when it is the same number for every launch.
  static std::optional<int64_t> gap(const OptSym& a, const OptSym& b) {
    auto d = combine(a, b, -1);
    if (!d || !d->numeric()) return std::nullopt;
    return d->constant;
  }
  static OptSym lesser(const OptSym& a, const OptSym& b) {
    if (auto d = gap(a, b)) return *d <= 0 ? a : b;
    return std::nullopt;
  }
  static OptSym greater(const OptSym& a, const OptSym& b) {
    if (auto d = gap(a, b)) return *d >= 0 ? a : b;
    return std::nullopt;
  }

  // The facts of the proof under way: they narrow the range of a variable or a
  // thread index they compare with a bound (`threadIdx.x < 32` in a partition).
  mutable const std::vector<Fact>* narrowing_ = nullptr;

  Range bounds(const ExprRef& e) const {
    Range r = leafBounds(e);
    if (!narrowing_ || (e->kind != ExprKind::Var && e->kind != ExprKind::Call)) return r;
    for (const Fact& f : *narrowing_) {
      // e < y: e <= max(y) - 1; x < e: e >= min(x) + 1.
      if (auto d = constantDifference(e, f.a); d && *d == 0) {
        auto y = narrowed(f.b).hi;
        if (y && y->numeric() && y->constant > INT64_MIN) {
          OptSym hi = number(y->constant - 1);
          if (!r.hi) r.hi = hi;
          else if (auto t = lesser(r.hi, hi)) r.hi = t;  // a symbolic bound stays
        }
      }
      if (auto d = constantDifference(e, f.b); d && *d == 0) {
        auto x = narrowed(f.a).lo;
        if (x && x->numeric() && x->constant < INT64_MAX) {
          OptSym lo = number(x->constant + 1);
          if (!r.lo) r.lo = lo;
          else if (auto t = greater(r.lo, lo)) r.lo = t;
        }
      }
    }
    return r;
  }
  // The other side of a narrowing fact, without the facts (no loops through them).
  Range narrowed(const ExprRef& e) const {
    const std::vector<Fact>* saved = narrowing_;
    narrowing_ = nullptr;
    Range r = bounds(e);
    narrowing_ = saved;
    return r;
  }

  Range leafBounds(const ExprRef& e) const {
    if (auto c = asConstInt(e)) return exact(number(*c));
    if (e->lanes != 1) return {};
    if (e->dtype == DType::Bool) return {number(0), number(1)};
    if (!isSignedInt(e)) return {};
    switch (e->kind) {
      case ExprKind::Var: {
        const VarNode* v = &e->as<VarNode>();
        if (assigned_.count(v)) return {};
        if (auto it = loopRanges_.find(v); it != loopRanges_.end()) return it->second;
        if (params_.count(v)) {
          Sym s;
          s.terms[Atom{v, 1}] = 1;
          return exact(s);
        }
        return {};
      }
      case ExprKind::Call: {
        const auto& c = e->as<CallNode>();
        if (c.builtin == Builtin::ThreadIdx) return {number(0), number(c.dim == 0 ? kernel_.threads - 1 : 0)};
        if (c.builtin == Builtin::BlockIdx) {
          if (c.dim < 0 || c.dim > 2 || !kernel_.grid[c.dim]) return {number(0), number(0)};
          return {number(0), combine(bounds(kernel_.grid[c.dim]).hi, number(1), -1)};
        }
        return {};
      }
      case ExprKind::Cast: {
        const ExprRef& a = e->as<CastNode>().a;
        if (a->dtype == DType::Bool) return {number(0), number(1)};
        // Widening keeps the value; a narrowing cast might not.
        if (isSignedInt(a) && bits(e->dtype) >= bits(a->dtype)) return bounds(a);
        return {};
      }
      case ExprKind::Unary: {
        if (auto atom = ceildivAtom(e)) {
          Sym s;
          s.terms[*atom] = 1;
          return exact(s);
        }
        if (e->as<UnaryNode>().op != UnOp::Neg) return {};
        Range r = bounds(e->as<UnaryNode>().a);
        return {scaled(r.hi, -1), scaled(r.lo, -1)};
      }
      case ExprKind::Select: {
        Range t = bounds(e->as<SelectNode>().t), f = bounds(e->as<SelectNode>().f);
        return {lesser(t.lo, f.lo), greater(t.hi, f.hi)};
      }
      case ExprKind::Binary: return binaryBounds(e->as<BinaryNode>());
      default: return {};
    }
  }

  Range binaryBounds(const BinaryNode& b) const {
    Range x = bounds(b.a), y = bounds(b.b);
    auto k = asConstInt(b.b);
    switch (b.op) {
      case BinOp::Add: return {combine(x.lo, y.lo, 1), combine(x.hi, y.hi, 1)};
      case BinOp::Sub: return {combine(x.lo, y.hi, -1), combine(x.hi, y.lo, -1)};
      case BinOp::Mul: {
        auto byConstant = [](const Range& r, int64_t c) -> Range {
          return c >= 0 ? Range{scaled(r.lo, c), scaled(r.hi, c)} : Range{scaled(r.hi, c), scaled(r.lo, c)};
        };
        if (k) return byConstant(x, *k);
        if (auto c = asConstInt(b.a)) return byConstant(y, *c);
        if (x.lo && x.hi && y.lo && y.hi && x.lo->numeric() && x.hi->numeric() && y.lo->numeric() && y.hi->numeric()) {
          int64_t p[4];
          if (__builtin_mul_overflow(x.lo->constant, y.lo->constant, &p[0]) ||
              __builtin_mul_overflow(x.lo->constant, y.hi->constant, &p[1]) ||
              __builtin_mul_overflow(x.hi->constant, y.lo->constant, &p[2]) ||
              __builtin_mul_overflow(x.hi->constant, y.hi->constant, &p[3]))
            return {};
          return {number(*std::min_element(p, p + 4)), number(*std::max_element(p, p + 4))};
        }
        return {};
      }
      case BinOp::FloorDiv:
        if (k && *k > 0) return {floorDivSym(x.lo, *k), floorDivSym(x.hi, *k)};
        return {};
      case BinOp::Shr:  // arithmetic: floor division by 2^k
        if (k && *k >= 0 && *k < 62) return {floorDivSym(x.lo, int64_t(1) << *k), floorDivSym(x.hi, int64_t(1) << *k)};
        return {};
      case BinOp::Shl:
        if (k && *k >= 0 && *k < 31) return {scaled(x.lo, int64_t(1) << *k), scaled(x.hi, int64_t(1) << *k)};
        return {};
      case BinOp::FloorMod:
        if (k && *k > 0) {
          if (x.lo && x.hi && x.lo->numeric() && x.hi->numeric() && x.lo->constant >= 0 && x.hi->constant < *k) return x;
          return {number(0), number(*k - 1)};
        }
        return {};
      case BinOp::BitAnd: {
        // x & m with m >= 0 lies in [0, m] whatever x is.
        auto m = k ? k : asConstInt(b.a);
        const Range& other = k ? x : y;
        if (!m || *m < 0) return {};
        OptSym hi = number(*m);
        if (other.lo && other.hi && other.lo->numeric() && other.hi->numeric() && other.lo->constant >= 0)
          hi = number(std::min(*m, other.hi->constant));
        return {number(0), hi};
      }
      case BinOp::Min: {
        // Either side's upper bound bounds the minimum.
        OptSym hi = lesser(x.hi, y.hi);
        if (!hi) hi = x.hi && x.hi->numeric() ? x.hi : y.hi && y.hi->numeric() ? y.hi : x.hi ? x.hi : y.hi;
        return {lesser(x.lo, y.lo), hi};
      }
      case BinOp::Max: {
        OptSym lo = greater(x.lo, y.lo);
        if (!lo) lo = x.lo && x.lo->numeric() ? x.lo : y.lo && y.lo->numeric() ? y.lo : x.lo ? x.lo : y.lo;
        return {lo, greater(x.hi, y.hi)};
      }
      default: return {};
    }
  }

  // An upper bound of `s` as a number: each ceildiv(x, T) term, of a coefficient
  // that T divides, replaced by x's (T * ceildiv(x, T) lies in [x, x + T - 1], and
  // is x where the variant assumes x % T == 0); nullopt if any symbol remains.
  std::optional<int64_t> numericUpperBound(const OptSym& s) const {
    if (!s) return std::nullopt;
    OptSym out = number(s->constant);
    for (const auto& [atom, c] : s->terms) {
      if (c == 0) continue;
      Sym term;
      if (atom.div == 1) {
        term.terms[atom] = c;
      } else {
        if (c % atom.div != 0) return std::nullopt;
        int64_t q = c / atom.div;
        term.terms[Atom{atom.var, 1}] = q;
        if (q > 0 && !knownMultipleOf(atom.var, atom.div)) {
          if (__builtin_mul_overflow(q, atom.div - 1, &term.constant)) return std::nullopt;
        }
      }
      out = combine(out, term, 1);
      if (!out) return std::nullopt;
    }
    if (!out->numeric()) return std::nullopt;
    return out->constant;
  }

  // ------------------------------------------------------------- proofs

  // a < b for every execution that reaches here with `facts`.
  bool proveLess(const ExprRef& a, const ExprRef& b, const std::vector<Fact>& facts, int depth = 0) const {
    if (depth > 6) return false;
    auto withFacts = [&](const ExprRef& cond, bool holds) {
      std::vector<Fact> more = facts;
      factsOf(cond, holds, more);
      return more;
    };
    if (a->kind == ExprKind::Select) {
      const auto& s = a->as<SelectNode>();
      return proveLess(s.t, b, withFacts(s.cond, true), depth + 1) && proveLess(s.f, b, withFacts(s.cond, false), depth + 1);
    }
    if (b->kind == ExprKind::Select) {
      const auto& s = b->as<SelectNode>();
      return proveLess(a, s.t, withFacts(s.cond, true), depth + 1) && proveLess(a, s.f, withFacts(s.cond, false), depth + 1);
    }
    if (a->kind == ExprKind::Binary) {
      const auto& m = a->as<BinaryNode>();
      if (m.op == BinOp::Min) return proveLess(m.a, b, facts, depth + 1) || proveLess(m.b, b, facts, depth + 1);
      if (m.op == BinOp::Max) return proveLess(m.a, b, facts, depth + 1) && proveLess(m.b, b, facts, depth + 1);
    }
    if (b->kind == ExprKind::Binary) {
      const auto& m = b->as<BinaryNode>();
      if (m.op == BinOp::Max) return proveLess(a, m.a, facts, depth + 1) || proveLess(a, m.b, facts, depth + 1);
      if (m.op == BinOp::Min) return proveLess(a, m.a, facts, depth + 1) && proveLess(a, m.b, facts, depth + 1);
    }
    // x // k < b exactly when x < b * k (k > 0); c < y // k when (c + 1) * k - 1 < y.
    auto divisor = [](const ExprRef& e) -> std::optional<int64_t> {
      if (e->kind != ExprKind::Binary) return std::nullopt;
      const auto& d = e->as<BinaryNode>();
      auto k = asConstInt(d.b);
      if (!k) return std::nullopt;
      if (d.op == BinOp::FloorDiv && *k > 0 && *k < (int64_t(1) << 30)) return *k;
      if (d.op == BinOp::Shr && *k >= 0 && *k < 30) return int64_t(1) << *k;
      return std::nullopt;
    };
    if (auto k = divisor(a); k && proveLess(a->as<BinaryNode>().a, mul(b, intImm(*k, b->dtype)), facts, depth + 1))
      return true;
    // x // k < y // k when x < y and k divides y (an fp4 byte index, (j >> 1) < (N >> 1)).
    if (auto k = divisor(a), l = divisor(b); k && l && *k == *l && multipleOf(b->as<BinaryNode>().a, *k) &&
                                             proveLess(a->as<BinaryNode>().a, b->as<BinaryNode>().a, facts, depth + 1))
      return true;
    if (auto k = divisor(b)) {
      auto c = asConstInt(a);
      int64_t low;
      if (c && *c < INT64_MAX && !__builtin_mul_overflow(*c + 1, *k, &low) && low > INT64_MIN &&
          proveLess(intImm(low - 1, b->dtype), b->as<BinaryNode>().a, facts, depth + 1))
        return true;
    }
    // A fact x < y with a - b == (x - y) + d, d <= 0 (as linear forms).
    if (!facts.empty()) {
      ExprRef goal = sub(a, b);
      for (const Fact& f : facts) {
        auto d = constantDifference(goal, sub(f.a, f.b));
        if (d && *d <= 0) return true;
      }
      // The same with ranges: (a - b) - (x - y) <= 0 for every value of what is
      // left (`min(i + 1, n - 1) >= 0` from i < n and i >= 0).
      for (const Fact& f : facts) {
        auto u = numericUpperBound(bounds(sub(goal, sub(f.a, f.b))).hi);
        if (u && *u <= 0) return true;
      }
    }
    // Ranges: max(a) - min(b) < 0, with the facts narrowing the variables.
    const std::vector<Fact>* saved = narrowing_;
    narrowing_ = &facts;
    auto u = numericUpperBound(combine(bounds(a).hi, bounds(b).lo, -1));
    narrowing_ = saved;
    return u && *u < 0;
  }

  // The bounds of `buffer` that the access at `indices` (of `lanes` elements along
  // the last axis) may break, given `facts`; null when every one is proven.
  ExprRef unprovenBounds(const Buffer& buffer, const std::vector<ExprRef>& indices, int lanes,
                         const std::vector<Fact>& facts) const {
    ExprRef guard;
    for (size_t a = 0; a < indices.size() && a < buffer.shape.size(); ++a) {
      const ExprRef& idx = indices[a];
      ExprRef e = expand(idx), extent = expand(buffer.shape[a]);
      int width = a + 1 == indices.size() ? lanes : 1;
      if (!proveLess(intImm(-1, e->dtype), e, facts))
        guard = logicalAnd(guard, binary(BinOp::Ge, idx, intImm(0, idx->dtype)));
      bool below = proveLess(width > 1 ? add(e, intImm(width - 1, e->dtype)) : e, extent, facts);
      // A vector starting on a multiple of its width, in an extent that is one too:
      // its first element in bounds puts all of them in bounds.
      if (!below && width > 1 && (width & (width - 1)) == 0 && pow2Multiple(e) % width == 0 &&
          pow2Multiple(extent) % width == 0)
        below = proveLess(e, extent, facts);
      if (!below) guard = logicalAnd(guard, lt(width > 1 ? add(idx, intImm(width - 1, idx->dtype)) : idx, buffer.shape[a]));
    }
    return guard;
  }

  std::vector<Fact> factsWith(const ExprRef& predicate) const {
    std::vector<Fact> facts = facts_;
    factsOf(predicate, true, facts);
    return facts;
  }

  // Shared and local buffers: a constant index outside a constant shape is a
  // lowering bug (sema refuses the ones a user writes).
  void checkTile(const Buffer& b, const std::vector<ExprRef>& indices, int lanes, const std::vector<Fact>& facts) const {
    if (b.scope == MemScope::Global || b.isBarrier || indices.size() != b.shape.size()) return;
    for (size_t a = 0; a < indices.size(); ++a) {
      auto n = asConstInt(b.shape[a]);
      if (!n) continue;
      int width = a + 1 == indices.size() ? lanes : 1;
      // Outside for every value the index can take (a constant among them): a bug
      // of the lowering, as sema refuses the ones a user writes. An index that may
      // only partly leave the tile is not reported (the proof may be too weak).
      const std::vector<Fact>* saved = narrowing_;
      narrowing_ = &facts;
      Range r = bounds(expand(indices[a]));
      narrowing_ = saved;
      if (!r.lo || !r.hi || !r.lo->numeric() || !r.hi->numeric()) continue;
      // Sema refuses constant indices outside a tile; one that becomes constant only
      // here (through a variable the user bound to a constant: `j = 4294967296;
      // t[j]`, found by fuzz_frontend) is still the user's, so it is an error at the
      // access, not an internal one.
      if (r.hi->constant < 0 || r.lo->constant > *n - width)
        diags_.error(at_, std::string(name(b.scope)) + " '" + b.name + "' is indexed at " + toString(indices[a]) +
                              ", which is always " + std::to_string(r.lo->constant) +
                              (r.lo->constant == r.hi->constant ? "" : ".." + std::to_string(r.hi->constant)) +
                              ", outside its extent " + std::to_string(*n));
    }
  }

  ExprRef load(const LoadNode& l, std::vector<ExprRef> idx) {
    ExprRef pred = rewriteExpr(l.predicate, {}, hooks_);
    ExprRef other = rewriteExpr(l.otherwise, {}, hooks_);
    if (l.buffer->scope != MemScope::Global) {
      checkTile(*l.buffer, idx, l.lanes, factsWith(pred));
      return nullptr;  // rewriteExpr rebuilds it if its operands changed
    }
    auto n = moveLoad(l, l.buffer, idx);
    n->predicate = pred;
    n->otherwise = other;
    if (ExprRef guard = unprovenBounds(*l.buffer, idx, l.lanes, factsWith(pred))) {
      if (!pred) n->otherwise = l.buffer->safeValue;
      n->predicate = logicalAnd(pred, guard);
    }
    n->boundsChecked = true;
    return n;
  }

  ExprRef expr(const ExprRef& e) { return rewriteExpr(e, {}, hooks_); }

  // ---------------------------------------------------------- statements

  StmtRef stmt(const StmtRef& s) {
    if (!s) return s;
    at_ = s->range;
    switch (s->kind) {
      case StmtKind::Seq: {
        auto out = std::make_shared<SeqStmt>(s->range);
        for (const auto& c : s->as<SeqStmt>().stmts) out->stmts.push_back(stmt(c));
        return out;
      }
      case StmtKind::For: {
        const auto& f = s->as<ForStmt>();
        auto out = std::make_shared<ForStmt>(f);  // keeps every field (stages, keepRolled, ...)
        out->min = expr(f.min);
        out->extent = expr(f.extent);
        out->step = expr(f.step);
        // The variable runs over [min, min + extent) (upwards; a downward loop gets no range).
        auto step = f.step ? asConstInt(f.step) : std::optional<int64_t>(1);
        if (step && *step > 0 && !assigned_.count(f.var.get())) {
          Range mn = bounds(expand(f.min)), ext = bounds(expand(f.extent));
          loopRanges_[f.var.get()] = {mn.lo, combine(combine(mn.hi, ext.hi, 1), number(1), -1)};
        }
        out->body = stmt(f.body);
        loopRanges_.erase(f.var.get());
        return out;
      }
      case StmtKind::If: {
        const auto& i = s->as<IfStmt>();
        ExprRef cond = expr(i.cond);
        size_t depth = facts_.size();
        factsOf(i.cond, true, facts_);
        StmtRef thenBody = stmt(i.thenBody);
        facts_.resize(depth);
        factsOf(i.cond, false, facts_);
        StmtRef elseBody = stmt(i.elseBody);
        facts_.resize(depth);
        return std::make_shared<IfStmt>(i.range, cond, thenBody, elseBody);
      }
      case StmtKind::Let: {
        const auto& l = s->as<LetStmt>();
        ExprRef value = expr(l.value);
        if (!assigned_.count(l.var.get()) && isSignedInt(l.value) && !mentionsAssigned(l.value))
          lets_[l.var.get()] = expand(l.value);
        return std::make_shared<LetStmt>(l.range, l.var, value);
      }
      case StmtKind::Assign: {
        const auto& a = s->as<AssignStmt>();
        return std::make_shared<AssignStmt>(a.range, a.var, expr(a.value));
      }
      case StmtKind::Store: {
        const auto& st = s->as<StoreStmt>();
        std::vector<ExprRef> idx;
        for (const auto& i : st.indices) idx.push_back(expr(i));
        auto out = moveStore(st, st.buffer, idx, expr(st.value));
        out->predicate = expr(st.predicate);
        out->bitMask = expr(st.bitMask);
        if (st.buffer->scope == MemScope::Global) {
          int lanes = st.value->lanes;
          if (ExprRef guard = unprovenBounds(*st.buffer, idx, lanes, factsWith(out->predicate)))
            out->predicate = logicalAnd(out->predicate, guard);
          out->boundsChecked = true;
        } else {
          checkTile(*st.buffer, idx, st.value->lanes, factsWith(out->predicate));
        }
        return out;
      }
      case StmtKind::Intrinsic: {
        auto out = std::make_shared<IntrinsicStmt>(s->as<IntrinsicStmt>());
        for (auto& a : out->args) a = expr(a);
        if (out->sharedElement) out->sharedElement = expr(out->sharedElement);
        if (out->barrierIndex) out->barrierIndex = expr(out->barrierIndex);
        return out;
      }
      case StmtKind::Barrier: return s;
      case StmtKind::Copy:
      case StmtKind::Parallel:
      case StmtKind::Fill:
      case StmtKind::Reduce:
        diags_.internalError(s->range, "GuardGlobalAccesses: a tile operation was not lowered");
        return s;
    }
    return s;
  }
};

}  // namespace

void guardGlobalAccesses(Kernel& kernel, DiagnosticEngine& diags) { Guarder(kernel, diags).run(); }

}  // namespace tlc
