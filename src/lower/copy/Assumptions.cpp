// Assumptions: proofs that an expression is a multiple of a constant.
#include "lower/copy/Assumptions.h"

#include <algorithm>

namespace tlc {

using namespace ir;

static bool isParam(const Kernel& kernel, const VarNode* v) {
  for (const auto& p : kernel.params)
    if (p.var.get() == v) return true;
  return false;
}

bool provablyMultiple(const Kernel& kernel, bool allowAssumptions, const ExprRef& e, int64_t m, AssumptionMap& need) {
  auto recurse = [&](const ExprRef& x, int64_t mm, AssumptionMap& n) {
    return provablyMultiple(kernel, allowAssumptions, x, mm, n);
  };
  if (m <= 1) return true;
  if (knownMultiple(e) % m == 0) return true;
  // A fact every launch has: the launcher refuses arguments that break a requirement
  // (a Buffer's offset_factor on its elem_offset), so no variant needs to assume it.
  if (e->kind == ExprKind::Var)
    for (const auto& r : kernel.requirements)
      if (r.value == e && r.multiple % m == 0) return true;
  if (!allowAssumptions) return false;
  if (e->kind == ExprKind::Var && isParam(kernel, &e->as<VarNode>()) && isInt(e->dtype)) {
    auto& slot = need[&e->as<VarNode>()];
    slot = std::max(slot, m);
    return true;
  }
  if (e->kind == ExprKind::Cast) return recurse(e->as<CastNode>().a, m, need);
  if (e->kind == ExprKind::Binary) {
    const auto& b = e->as<BinaryNode>();
    // x // c is a multiple of m when x is one of m * c (the halved extents and
    // strides of float4_e2m1fn byte twins, PackFloat4).
    // (x >> k likewise: floor division by 2^k is built as a shift.)
    if (b.op == BinOp::FloorDiv)
      if (auto c = asConstInt(b.b); c && *c > 0 && *c <= (int64_t(1) << 20)) return recurse(b.a, m * *c, need);
    if (b.op == BinOp::Shr)
      if (auto c = asConstInt(b.b); c && *c >= 0 && *c <= 20) return recurse(b.a, m << *c, need);
    if (b.op == BinOp::Mul) {
      // Prefer a factor already assumed, so one fact serves every stride.
      for (const auto& f : {b.a, b.b})
        if (f->kind == ExprKind::Var)
          if (auto it = need.find(&f->as<VarNode>()); it != need.end() && it->second % m == 0) return true;
      // Then a factor that needs no new fact (C in (C*W)*H), then the right one.
      auto ta = need, tb = need;
      bool okB = recurse(b.b, m, tb), okA = recurse(b.a, m, ta);
      if (okB && tb == need) return true;
      if (okA && ta == need) return true;
      if (okB) { need = tb; return true; }
      if (okA) { need = ta; return true; }
      return false;
    }
    if (b.op == BinOp::Add || b.op == BinOp::Sub) {
      auto trial = need;
      if (recurse(b.a, m, trial) && recurse(b.b, m, trial)) { need = trial; return true; }
      return false;
    }
  }
  return false;
}

std::vector<std::pair<VarRef, int64_t>> inParamOrder(const Kernel& kernel, const AssumptionMap& need) {
  std::vector<std::pair<VarRef, int64_t>> out;
  for (const auto& p : kernel.params)
    if (auto it = need.find(p.var.get()); it != need.end()) out.emplace_back(p.var, it->second);
  return out;
}

void describeAssumptions(std::ostringstream& os, const Kernel& kernel, const AssumptionMap& need) {
  bool first = true;
  for (const auto& [v, m] : inParamOrder(kernel, need)) {
    os << (first ? " where " : " and ");
    first = false;
    if (v->dtype == DType::Handle) os << v->name << " is " << m << "-byte aligned";
    else os << v->name << " % " << m << " == 0";
  }
}

}  // namespace tlc
