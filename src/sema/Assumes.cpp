// Assumes: TileLang's `T.assume(cond)` over the kernel's parameters.
//
// TileLang hands the condition to its simplifier as a fact. Here a fact is only
// sound if the launch guarantees it, so each assumption becomes a requirement the
// launcher checks (Kernel::requirements: it refuses arguments that break one,
// naming it) and lowering may then rely on (copy/Assumptions.cpp: a multiple
// needs no variant). The forms are those a requirement can state: `x % k == 0`,
// `x >= k` and `x > k` (k >= 1 after the conversion), and `and` of them, where x
// reads only parameters (dimensions, scalars) and constants.
#include "sema/Analyzer.h"

namespace tlc::sema {


namespace {
const char* kAssumeForms =
    "assume() takes `x % k == 0`, `x >= k` or `x > k` (k a positive constant, x over the kernel's parameters), "
    "or an `and` of them";
}  // namespace

bool Analyzer::readsOnlyParameters(const ExprRef& e) const {
  switch (e->kind) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
      return true;
    case ExprKind::Var:
      for (const Param& p : kernel_->params)
        if (p.var.get() == &e->as<VarNode>()) return p.kind == ParamKind::Dim || p.kind == ParamKind::Scalar;
      return false;
    case ExprKind::Binary:
      return readsOnlyParameters(e->as<BinaryNode>().a) && readsOnlyParameters(e->as<BinaryNode>().b);
    case ExprKind::Unary: return readsOnlyParameters(e->as<UnaryNode>().a);
    case ExprKind::Cast: return readsOnlyParameters(e->as<CastNode>().a);
    case ExprKind::Call: {
      const auto& c = e->as<CallNode>();
      if (info(c.builtin).varies != BuiltinVaries::None) return false;
      for (const auto& a : c.args)
        if (!readsOnlyParameters(a)) return false;
      return true;
    }
    default: return false;
  }
}

ExprRef Analyzer::assumedValue(const ast::Expr& e) {
  ExprRef v = scalarExpr(e);
  if (!isInt(v->dtype)) fail(e.range, "assume() states facts about integers; this is " + std::string(name(v->dtype)));
  if (!readsOnlyParameters(v))
    fail(e.range, "assume() may only read the kernel's parameters and constants (the launcher checks it before the "
                  "launch); this reads a value known only inside the kernel");
  return v;
}

void Analyzer::addAssumption(const ast::Expr& cond, const std::string& text) {
  if (cond.kind != ast::ExprKind::Binary) fail(cond.range, kAssumeForms);
  const auto& b = cond.as<ast::Binary>();
  if (b.op == ast::BinaryOp::And) {
    addAssumption(*b.lhs, text);
    addAssumption(*b.rhs, text);
    return;
  }
  std::string why = " (the kernel assumes " + text + ")";  // "... (the kernel assumes it: assume() at line 3)"
  if (b.op == ast::BinaryOp::Eq) {
    // x % k == 0 (or 0 == x % k)
    const ast::Expr* mod = b.lhs.get();
    const ast::Expr* zero = b.rhs.get();
    if (mod->kind != ast::ExprKind::Binary) std::swap(mod, zero);
    if (mod->kind != ast::ExprKind::Binary || mod->as<ast::Binary>().op != ast::BinaryOp::Mod ||
        constIntArg(*zero, "the right side of `x % k ==`") != 0)
      fail(cond.range, kAssumeForms);
    const auto& m = mod->as<ast::Binary>();
    int64_t k = constIntArg(*m.rhs, "the divisor of an assumed multiple");
    if (k < 1) fail(m.rhs->range, "the divisor of an assumed multiple must be positive");
    ExprRef value = assumedValue(*m.lhs);
    kernel_->requirements.push_back({value, k, toString(value), why});
    return;
  }
  if (b.op == ast::BinaryOp::Ge || b.op == ast::BinaryOp::Gt) {
    int64_t k = constIntArg(*b.rhs, "the bound of an assumed minimum");
    if (b.op == ast::BinaryOp::Gt) k += 1;
    ExprRef value = assumedValue(*b.lhs);
    // A dimension is never negative (the launcher checks): `N >= 0` holds already.
    bool dimension = false;
    for (const Param& p : kernel_->params)
      if (p.kind == ParamKind::Dim && value.get() == p.var.get()) dimension = true;
    if (k < 1 && dimension) return;
    if (k < 1)
      fail(b.rhs->range, std::string("not yet supported: an assumed minimum below 1 (") + kAssumeForms + ")");
    kernel_->requirements.push_back({value, 1, toString(value), why, k});
    return;
  }
  fail(cond.range, kAssumeForms);
}

StmtRef Analyzer::assumeStmt(const ast::Call& c) {
  checkKeywords(c, "assume", {});
  if (c.args.size() != 1) fail(c.range, "assume takes one condition");
  addAssumption(*c.args[0], "it: assume() at line " + std::to_string(c.range.begin.line));
  return nullptr;
}

}  // namespace tlc::sema
