// WidenIndices: see the header.
#include "lower/WidenIndices.h"

#include <algorithm>
#include <map>

#include "ir/Rewrite.h"

namespace tlc {

using namespace ir;

namespace {

using Wide = __int128;

// Ranges are clamped here: anything this far out is past every type anyway, and the
// clamp keeps interval products from overflowing 128 bits.
constexpr Wide kHuge = Wide(1) << 100;

Wide clampWide(Wide v) { return std::max(-kHuge, std::min(kHuge, v)); }

// a * b, saturated at +-kHuge (operands up to kHuge: their product would overflow).
Wide mulSat(Wide a, Wide b) {
  Wide r;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? -kHuge : kHuge;
  return clampWide(r);
}

// The values an integer expression can take, as mathematical integers.
struct Range {
  Wide lo = -kHuge, hi = kHuge;
  static Range of(Wide a, Wide b) { return {clampWide(std::min(a, b)), clampWide(std::max(a, b))}; }
};

Range typeRange(DType t) {
  if (t == DType::Bool) return {0, 1};
  if (!isInt(t)) return {};
  int b = bits(t);
  if (isSigned(t)) return {-(Wide(1) << (b - 1)), (Wide(1) << (b - 1)) - 1};
  return {0, (Wide(1) << b) - 1};
}

bool fits(const Range& r, DType t) {
  Range tr = typeRange(t);
  return r.lo >= tr.lo && r.hi <= tr.hi;
}

Range hull(const Range& a, const Range& b) { return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)}; }

Wide floorDivWide(Wide a, Wide b) {
  Wide q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// The smallest 2^k - 1 at least v (v >= 0).
Wide allOnesAbove(Wide v) {
  Wide m = 0;
  while (m < v) m = m * 2 + 1;
  return m;
}

// The range of `a op b` as mathematical integers, or the type's range where the
// operation is not one this analysis follows.
Range binaryRange(BinOp op, const Range& a, const Range& b, DType t) {
  auto constant = [](const Range& r) -> std::optional<Wide> {
    if (r.lo == r.hi) return r.lo;
    return std::nullopt;
  };
  switch (op) {
    case BinOp::Add: return Range::of(a.lo + b.lo, a.hi + b.hi);
    case BinOp::Sub: return Range::of(a.lo - b.hi, a.hi - b.lo);
    case BinOp::Mul: {
      Wide c[4] = {mulSat(a.lo, b.lo), mulSat(a.lo, b.hi), mulSat(a.hi, b.lo), mulSat(a.hi, b.hi)};
      return Range::of(*std::min_element(c, c + 4), *std::max_element(c, c + 4));
    }
    case BinOp::FloorDiv:
      if (b.lo > 0) {
        Wide c[4] = {floorDivWide(a.lo, b.lo), floorDivWide(a.lo, b.hi), floorDivWide(a.hi, b.lo),
                     floorDivWide(a.hi, b.hi)};
        return Range::of(*std::min_element(c, c + 4), *std::max_element(c, c + 4));
      }
      break;
    case BinOp::FloorMod:
      if (b.lo > 0) {
        if (a.lo >= 0 && a.hi < b.lo) return a;
        return {0, b.hi - 1};
      }
      break;
    case BinOp::Min: return {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
    case BinOp::Max: return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
    case BinOp::Shl:
      if (auto k = constant(b); k && *k >= 0 && *k < 64)
        return Range::of(mulSat(a.lo, Wide(1) << int(*k)), mulSat(a.hi, Wide(1) << int(*k)));
      break;
    case BinOp::Shr:
      if (auto k = constant(b); k && *k >= 0 && *k < 64 && isSigned(t))
        return Range::of(floorDivWide(a.lo, Wide(1) << int(*k)), floorDivWide(a.hi, Wide(1) << int(*k)));
      if (auto k = constant(b); k && *k >= 0 && *k < 64 && a.lo >= 0)
        return Range::of(a.lo >> int(*k), a.hi >> int(*k));
      break;
    case BinOp::BitAnd:
      if (a.lo >= 0 && b.lo >= 0) return {0, std::min(a.hi, b.hi)};
      if (a.lo >= 0) return {0, a.hi};
      if (b.lo >= 0) return {0, b.hi};
      break;
    case BinOp::BitOr:
    case BinOp::BitXor:
      if (a.lo >= 0 && b.lo >= 0) return {0, allOnesAbove(std::max(a.hi, b.hi))};
      break;
    default: break;
  }
  return typeRange(t);
}

bool isArithmetic(BinOp op) { return !(op >= BinOp::Lt); }

// Operations whose result's low bits depend only on their operands' low bits: in
// two's complement they wrap consistently, so a value needed only modulo 2^32 may
// overflow on the way.
bool isRing(BinOp op) {
  return op == BinOp::Add || op == BinOp::Sub || op == BinOp::Mul || op == BinOp::BitAnd || op == BinOp::BitOr ||
         op == BinOp::BitXor;
}

class Widener {
 public:
  explicit Widener(Kernel& k) : k_(k) {}

  void run() {
    for (const Param& p : k_.params)
      if (p.var && isInt(p.var->dtype)) params_[p.var.get()] = &p;
    // The grid: what the launcher computes in int64 (casts keep values), at most the
    // device's limits (the launcher refuses more).
    const Wide limit[3] = {(Wide(1) << 31) - 1, 65535, 65535};
    for (int d = 0; d < 3; ++d) {
      Range g = expr(k_.grid[d]).r;
      blocks_[d] = std::max(Wide(1), std::min(g.hi, limit[d]));
    }
    threadsHi_ = k_.threads - 1;
    collectAssigned(k_.body);
    k_.body = stmt(k_.body);
    for (const auto& [var, ref] : bounded_) k_.argumentBounds.push_back({ref, uint64_t(INT64_MAX)});
    recordSpans();
  }

 private:
  struct Out {
    ExprRef e;
    Range r;
  };

  void collectAssigned(const StmtRef& s) {
    if (!s) return;
    switch (s->kind) {
      case StmtKind::Seq:
        for (const auto& c : s->as<SeqStmt>().stmts) collectAssigned(c);
        break;
      case StmtKind::For: collectAssigned(s->as<ForStmt>().body); break;
      case StmtKind::If:
        collectAssigned(s->as<IfStmt>().thenBody);
        collectAssigned(s->as<IfStmt>().elseBody);
        break;
      case StmtKind::Assign: assigned_.insert(s->as<AssignStmt>().var.get()); break;
      case StmtKind::Store:  // an atomic's old value is assigned to its local
        if (s->as<StoreStmt>().result) assigned_.insert(s->as<StoreStmt>().result.get());
        break;
      default: break;
    }
  }

  Range varRange(const ExprRef& e) {
    const auto& v = e->as<VarNode>();
    if (auto it = vars_.find(&v); it != vars_.end()) return it->second;
    auto p = params_.find(&v);
    if (p == params_.end()) return typeRange(v.dtype);
    // Dims are refused when negative; so are signed scalars that size the grid, but
    // this range does not lean on that: a scalar may be any value of its type.
    if (p->second->kind == ParamKind::Dim) return {0, typeRange(v.dtype).hi};
    if (v.dtype == DType::UInt64) {
      // Indexed in int64: the launcher refuses a larger value (argumentBounds).
      bounded_.emplace(&v, std::static_pointer_cast<const VarNode>(e));
      return {0, Wide(INT64_MAX)};
    }
    return typeRange(v.dtype);
  }

  // `e` as it was, or computed at its own type again after a widened operand.
  static ExprRef asType(DType t, const ExprRef& e) { return e->dtype == t ? e : cast(t, e); }

  // `modular`: the consumer needs the value only modulo 2^bits of its type (a place
  // whose type is fixed, or a ring operation of the same width): ring operations
  // then stay in their type, wrapping as before.
  Out expr(const ExprRef& e, bool modular = false) {
    if (!e) return {e, {}};
    if (e->lanes != 1) return {vectorExpr(e), typeRange(e->dtype)};
    switch (e->kind) {
      case ExprKind::IntImm: {
        Wide v = e->as<IntImm>().value;
        return {e, {v, v}};
      }
      case ExprKind::FloatImm: return {e, typeRange(e->dtype)};
      case ExprKind::Var: return {e, isInt(e->dtype) ? varRange(e) : typeRange(e->dtype)};
      case ExprKind::Call: {
        const auto& c = e->as<CallNode>();
        if (c.builtin == Builtin::ThreadIdx) return {e, {0, c.dim == 0 ? threadsHi_ : 0}};
        if (c.builtin == Builtin::BlockIdx && c.dim >= 0 && c.dim < 3) return {e, {0, blocks_[c.dim] - 1}};
        if (c.builtin == Builtin::ClusterCtaRank) return {e, {0, 15}};
        std::vector<ExprRef> args;
        bool changed = false;
        for (const auto& a : c.args) {
          args.push_back(asType(a->dtype, expr(a).e));
          changed |= args.back() != a;
        }
        return {changed ? callWithArgs(c, args) : e, typeRange(e->dtype)};
      }
      case ExprKind::Load: return {load(e), typeRange(e->dtype)};
      case ExprKind::Cast: {
        const auto& c = e->as<CastNode>();
        // A same-width or narrowing integer conversion needs only its operand's low bits.
        bool lowBits = modular && isInt(e->dtype) && isInt(c.a->dtype) && bits(c.a->dtype) >= bits(e->dtype);
        Out a = expr(c.a, lowBits);
        if (lowBits) {
          ExprRef operand = asType(c.a->dtype, a.e);
          return {operand == c.a ? e : cast(e->dtype, operand), fits(a.r, e->dtype) ? a.r : typeRange(e->dtype)};
        }
        if (!isInt(e->dtype) || !(isInt(a.e->dtype) || a.e->dtype == DType::Bool)) {
          ExprRef out = a.e == c.a ? e : cast(e->dtype, asType(c.a->dtype, a.e));
          return {out, typeRange(e->dtype)};
        }
        if (fits(a.r, e->dtype)) return {a.e == c.a ? e : cast(e->dtype, a.e), a.r};
        // An int32 coercion (sema's, of an index, shape entry or extent) of a value
        // that int32 cannot hold: keep the value, in int64. Not of a 64-bit value
        // this analysis knows nothing of (a loaded int64 that a program truncates);
        // a 64-bit parameter is an extent's value.
        Range whole = typeRange(a.e->dtype);
        bool unknown = bits(a.e->dtype) == 64 && a.r.lo == whole.lo && a.r.hi == whole.hi && a.e->kind != ExprKind::Var;
        if (e->dtype == DType::Int32 && !unknown && fits(a.r, DType::Int64)) return {cast(DType::Int64, a.e), a.r};
        return {a.e == c.a ? e : cast(e->dtype, a.e), typeRange(e->dtype)};
      }
      case ExprKind::Unary: {
        const auto& u = e->as<UnaryNode>();
        bool ring = modular && u.op != UnOp::Not && isInt(e->dtype) && bits(e->dtype) <= 32;
        Out a = expr(u.a, ring);
        if (ring) {
          ExprRef operand = asType(u.a->dtype, a.e);
          Range r = u.op == UnOp::Neg ? Range::of(-a.r.hi, -a.r.lo) : Range::of(-a.r.hi - 1, -a.r.lo - 1);
          return {operand == u.a ? e : unary(u.op, operand), fits(r, e->dtype) ? r : typeRange(e->dtype)};
        }
        if (u.op == UnOp::Not || !isInt(e->dtype)) return {a.e == u.a ? e : unary(u.op, a.e), typeRange(e->dtype)};
        Range r = u.op == UnOp::Neg ? Range::of(-a.r.hi, -a.r.lo) : Range::of(-a.r.hi - 1, -a.r.lo - 1);
        if (fits(r, a.e->dtype)) return {a.e == u.a ? e : unary(u.op, a.e), r};
        if (bits(a.e->dtype) < 64 && fits(r, DType::Int64)) return {unary(u.op, cast(DType::Int64, a.e)), r};
        return {a.e == u.a ? e : unary(u.op, a.e), typeRange(a.e->dtype)};
      }
      case ExprKind::Select: {
        const auto& s = e->as<SelectNode>();
        Out c = expr(s.cond), t = expr(s.t), f = expr(s.f);
        if (c.e == s.cond && t.e == s.t && f.e == s.f) return {e, isInt(e->dtype) ? hull(t.r, f.r) : typeRange(e->dtype)};
        if (isInt(e->dtype) && (t.e->dtype != f.e->dtype)) {
          t.e = asType(DType::Int64, t.e);
          f.e = asType(DType::Int64, f.e);
        }
        return {select(c.e, t.e, f.e), isInt(e->dtype) ? hull(t.r, f.r) : typeRange(e->dtype)};
      }
      case ExprKind::Binary: return binaryExpr(e, modular);
    }
    return {e, typeRange(e->dtype)};
  }

  Out binaryExpr(const ExprRef& e, bool modular) {
    const auto& b = e->as<BinaryNode>();
    if (modular && isRing(b.op) && isInt(e->dtype) && bits(e->dtype) <= 32) {
      Out a = expr(b.a, true), c = expr(b.b, true);
      ExprRef lhs = asType(b.a->dtype, a.e), rhs = asType(b.b->dtype, c.e);
      ExprRef built = lhs == b.a && rhs == b.b ? e : binary(b.op, lhs, rhs);
      Range r = binaryRange(b.op, a.r, c.r, e->dtype);
      return {built, fits(r, e->dtype) ? r : typeRange(e->dtype)};
    }
    Out a = expr(b.a), c = expr(b.b);
    bool same = a.e == b.a && c.e == b.b;
    if (auto cmp = offsetComparison(b, c)) return {cmp, typeRange(e->dtype)};
    if (!isArithmetic(b.op) || !isInt(e->dtype)) {
      // Comparisons and logic: binary() compares a widened side with the other
      // side widened too.
      return {same ? e : binary(b.op, a.e, c.e), typeRange(e->dtype)};
    }
    ExprRef built = same ? e : binary(b.op, a.e, c.e);
    DType t = built->dtype;
    Range r = binaryRange(b.op, a.r, c.r, t);
    if (fits(r, t)) return {built, r};
    if (bits(t) < 64 && fits(r, DType::Int64)) {
      ExprRef lhs = cast(DType::Int64, a.e);
      ExprRef rhs = (b.op == BinOp::Shl || b.op == BinOp::Shr) ? c.e : cast(DType::Int64, c.e);
      return {binary(b.op, lhs, rhs), r};
    }
    passed64_ |= bits(t) == 64;
    return {built, typeRange(t)};
  }

  // `x + k < y` (k > 0 a constant, and <=, >, >=) where only the sum passes int32:
  // `x < y - k`, the same comparison in 32 bits when y - k cannot pass int32 (y
  // non-negative, an extent). Keeps a pipeline's `(k + 2) < K` 32-bit; null otherwise.
  ExprRef offsetComparison(const BinaryNode& b, const Out& rhs) {
    if (b.op != BinOp::Lt && b.op != BinOp::Le && b.op != BinOp::Gt && b.op != BinOp::Ge) return nullptr;
    if (b.a->kind != ExprKind::Binary || b.a->dtype != DType::Int32 || rhs.e->dtype != DType::Int32) return nullptr;
    const auto& sum = b.a->as<BinaryNode>();
    auto k = asConstInt(sum.b);
    if (sum.op != BinOp::Add || !k || *k <= 0) return nullptr;
    Out x = expr(sum.a);
    if (x.e->dtype != DType::Int32 || fits(Range::of(x.r.lo + *k, x.r.hi + *k), DType::Int32)) return nullptr;
    if (!fits(Range::of(rhs.r.lo - *k, rhs.r.hi - *k), DType::Int32)) return nullptr;
    return binary(b.op, x.e, sub(rhs.e, intImm(*k)));
  }

  // In the then-branch of `if (v < e and ...)`, v < e: a loop variable's range
  // narrows (v + 2 below stays 32-bit when the condition was v < K - 2).
  void refine(const ExprRef& cond) {
    if (!cond || cond->kind != ExprKind::Binary) return;
    const auto& b = cond->as<BinaryNode>();
    if (b.op == BinOp::And) {
      refine(b.a);
      refine(b.b);
      return;
    }
    if (b.op != BinOp::Lt && b.op != BinOp::Le) return;
    if (b.a->kind == ExprKind::Call && b.a->as<CallNode>().builtin == Builtin::ThreadIdx && b.a->as<CallNode>().dim == 0) {
      // `if (threadIdx.x < 64)`: the threads that hold a fragment's elements.
      Range bound = expr(b.b).r;
      threadsHi_ = std::max(Wide(0), std::min(threadsHi_, b.op == BinOp::Lt ? bound.hi - 1 : bound.hi));
      return;
    }
    if (b.a->kind != ExprKind::Var || !isInt(b.a->dtype)) return;
    Range bound = expr(b.b).r;
    Range v = varRange(b.a);
    Wide hi = b.op == BinOp::Lt ? bound.hi - 1 : bound.hi;
    if (hi < v.hi) vars_[&b.a->as<VarNode>()] = {v.lo, std::max(v.lo, hi)};
  }

  // Vectors are data, never indices: only the loads inside them.
  ExprRef vectorExpr(const ExprRef& e) {
    if (e->kind == ExprKind::Load) return load(e);
    return rewriteExpr(e, {}, loadHooks());
  }

  RewriteHooks loadHooks() {
    RewriteHooks h;
    h.load = [this](const LoadNode& l, std::vector<ExprRef>) -> ExprRef {
      // rewriteExpr hands the node's own fields back through `l`; rebuild from them.
      return loadOf(l);
    };
    return h;
  }

  ExprRef load(const ExprRef& e) {
    ExprRef n = loadOf(e->as<LoadNode>());
    return n ? n : e;
  }

  // The load with its indices, predicate and fallback value widened; null if unchanged.
  ExprRef loadOf(const LoadNode& l) {
    std::vector<ExprRef> idx;
    bool changed = false;
    for (const auto& i : l.indices) {
      idx.push_back(index(l.buffer, i));
      changed |= idx.back() != i;
    }
    ExprRef pred = l.predicate ? expr(l.predicate).e : nullptr;
    ExprRef other = l.otherwise ? kept(l.otherwise) : nullptr;
    if (!changed && pred == l.predicate && other == l.otherwise) return nullptr;
    auto n = moveLoad(l, l.buffer, idx);
    n->predicate = pred;
    n->otherwise = other;
    return n;
  }

  // A flat element index: global ones are int64 already (FlattenBufferAccess); a
  // shared or local index keeps its type.
  ExprRef index(const BufferRef&, const ExprRef& i) { return kept(i); }

  // A value whose type is fixed: computed as exactly as its parts need, then cast
  // back to that type (where it meant what it meant before).
  ExprRef kept(const ExprRef& e) { return e ? asType(e->dtype, keptOut(e).e) : e; }
  Out keptOut(const ExprRef& e) { return e ? expr(e, isInt(e->dtype) && bits(e->dtype) <= 32) : Out{e, {}}; }

  StmtRef stmt(const StmtRef& s) {
    if (!s) return s;
    switch (s->kind) {
      case StmtKind::Seq: {
        const auto& q = s->as<SeqStmt>();
        std::vector<StmtRef> out;
        bool changed = false;
        for (const auto& c : q.stmts) {
          out.push_back(stmt(c));
          changed |= out.back() != c;
        }
        if (!changed) return s;
        auto n = std::make_shared<SeqStmt>(q);
        n->stmts = std::move(out);
        return n;
      }
      case StmtKind::For: {
        const auto& f = s->as<ForStmt>();
        Out mn = keptOut(f.min), ext = keptOut(f.extent);
        ExprRef newMin = f.min ? asType(f.min->dtype, mn.e) : f.min;
        ExprRef newExt = f.extent ? asType(f.extent->dtype, ext.e) : f.extent;
        Range r = typeRange(f.var->dtype);
        auto step = f.step ? asConstInt(f.step) : std::optional<int64_t>(1);
        if (step && *step > 0 && f.min && f.extent && fits(mn.r, f.min->dtype) && fits(ext.r, f.extent->dtype))
          r = {mn.r.lo, std::max(mn.r.lo, mn.r.hi + ext.r.hi - 1)};
        // A loop variable the body assigns is any value of its type.
        if (!fits(r, f.var->dtype) || assigned_.count(f.var.get())) r = typeRange(f.var->dtype);
        vars_[f.var.get()] = r;
        StmtRef body = stmt(f.body);
        if (newMin == f.min && newExt == f.extent && body == f.body) return s;
        auto n = std::make_shared<ForStmt>(f);
        n->min = newMin;
        n->extent = newExt;
        n->body = body;
        return n;
      }
      case StmtKind::If: {
        const auto& i = s->as<IfStmt>();
        ExprRef c = expr(i.cond).e;
        auto outside = vars_;
        Wide threadsOutside = threadsHi_;
        refine(c);
        StmtRef t = stmt(i.thenBody);
        vars_ = std::move(outside);
        threadsHi_ = threadsOutside;
        StmtRef e = stmt(i.elseBody);
        if (c == i.cond && t == i.thenBody && e == i.elseBody) return s;
        auto n = std::make_shared<IfStmt>(i);
        n->cond = c;
        n->thenBody = t;
        n->elseBody = e;
        return n;
      }
      case StmtKind::Let: {
        const auto& l = s->as<LetStmt>();
        Out v = keptOut(l.value);
        ExprRef value = asType(l.value->dtype, v.e);
        if (isInt(l.var->dtype) && !assigned_.count(l.var.get()) && fits(v.r, l.var->dtype)) vars_[l.var.get()] = v.r;
        if (value == l.value) return s;
        auto n = std::make_shared<LetStmt>(l);
        n->value = value;
        return n;
      }
      case StmtKind::Assign: {
        const auto& a = s->as<AssignStmt>();
        ExprRef value = kept(a.value);
        if (value == a.value) return s;
        auto n = std::make_shared<AssignStmt>(a);
        n->value = value;
        return n;
      }
      case StmtKind::Store: {
        const auto& st = s->as<StoreStmt>();
        std::vector<ExprRef> idx;
        bool changed = false;
        for (const auto& i : st.indices) {
          idx.push_back(index(st.buffer, i));
          changed |= idx.back() != i;
        }
        ExprRef value = kept(st.value);
        ExprRef pred = st.predicate ? expr(st.predicate).e : nullptr;
        if (!changed && value == st.value && pred == st.predicate) return s;
        auto n = moveStore(st, st.buffer, idx, value);
        n->predicate = pred;
        return n;
      }
      case StmtKind::Intrinsic: {
        const auto& in = s->as<IntrinsicStmt>();
        std::vector<ExprRef> args;
        bool changed = false;
        for (const auto& a : in.args) {
          args.push_back(kept(a));
          changed |= args.back() != a;
        }
        if (!changed) return s;
        auto n = std::make_shared<IntrinsicStmt>(in);
        n->args = std::move(args);
        return n;
      }
      default: return s;
    }
  }

  // Whether `e` reads only parameters and constants through integer arithmetic (what
  // the launcher can evaluate).
  bool overParams(const ExprRef& e) const {
    switch (e->kind) {
      case ExprKind::IntImm: return true;
      case ExprKind::Var: return params_.count(&e->as<VarNode>()) != 0;
      case ExprKind::Cast: return isInt(e->dtype) && overParams(e->as<CastNode>().a);
      case ExprKind::Unary: return isInt(e->dtype) && overParams(e->as<UnaryNode>().a);
      case ExprKind::Binary: {
        const auto& b = e->as<BinaryNode>();
        return isInt(e->dtype) && isArithmetic(b.op) && b.op != BinOp::Pow && overParams(b.a) && overParams(b.b);
      }
      default: return false;
    }
  }

  // Each global tensor with a symbolic shape: the offset of its last element, where it
  // could pass int64 (a product of several dimensions), for the launcher to check.
  void recordSpans() {
    BufferSet seen;
    forEachAccess(k_.body, {[&](const BufferRef& b, bool) {
      if (b->scope != MemScope::Global || !seen.insert(b.get()).second) return;
      ExprRef last = b->elemOffset ? cast(DType::Int64, b->elemOffset) : intImm(0, DType::Int64);
      for (size_t a = 0; a < b->shape.size() && a < b->strides.size(); ++a) {
        ExprRef term = mul(sub(cast(DType::Int64, b->shape[a]), intImm(1, DType::Int64)), cast(DType::Int64, b->strides[a]));
        last = add(last, term);
      }
      if (!overParams(last) || asConstInt(last)) return;
      passed64_ = false;
      expr(last);
      if (!passed64_) return;
      k_.tensorSpans.push_back({b->name, last});
    }});
  }

  Kernel& k_;
  std::map<const VarNode*, const Param*, ById> params_;
  std::map<const VarNode*, Range, ById> vars_;
  VarSet assigned_;
  std::map<const VarNode*, VarRef, ById> bounded_;
  Wide blocks_[3] = {1, 1, 1};
  bool passed64_ = false;  // some 64-bit node's range passed its type
  Wide threadsHi_ = 0;     // the largest threadIdx.x here (a branch may narrow it)
};

}  // namespace

void widenIndices(Kernel& kernel) { Widener(kernel).run(); }

}  // namespace tlc
