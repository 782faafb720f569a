// Linear: a tiny linear-form analysis over integer expressions, so that region
// extents like `by*BM + BM - by*BM` are recognised as the constant BM.
#include <map>

#include "ir/IR.h"

namespace tlc::ir {
namespace {

// sum(coeff * atom) + constant, atoms keyed by their printed form.
struct LinearForm {
  std::map<std::string, int64_t> terms;
  int64_t constant = 0;
  bool ok = true;
};

// a += b * c; false (and the form given up) when that overflows int64, which huge
// constants in a program can make happen (found by fuzz_frontend under UBSan).
bool addProduct(int64_t& a, int64_t b, int64_t c, LinearForm& out) {
  int64_t product;
  if (__builtin_mul_overflow(b, c, &product) || __builtin_add_overflow(a, product, &a)) out.ok = false;
  return out.ok;
}

void accumulate(const ExprRef& e, int64_t scale, LinearForm& out) {
  if (!out.ok) return;
  if (auto c = asConstInt(e)) {
    addProduct(out.constant, scale, *c, out);
    return;
  }
  int64_t scaled = 0;
  if (e->kind == ExprKind::Binary) {
    const auto& b = e->as<BinaryNode>();
    switch (b.op) {
      case BinOp::Add: accumulate(b.a, scale, out); accumulate(b.b, scale, out); return;
      case BinOp::Sub:
        accumulate(b.a, scale, out);
        if (addProduct(scaled, scale, -1, out)) accumulate(b.b, scaled, out);
        return;
      case BinOp::Mul:
        if (auto c = asConstInt(b.b)) { if (addProduct(scaled, scale, *c, out)) accumulate(b.a, scaled, out); return; }
        if (auto c = asConstInt(b.a)) { if (addProduct(scaled, scale, *c, out)) accumulate(b.b, scaled, out); return; }
        break;
      default: break;
    }
  }
  if (e->kind == ExprKind::Unary && e->as<UnaryNode>().op == UnOp::Neg) {
    if (addProduct(scaled, scale, -1, out)) accumulate(e->as<UnaryNode>().a, scaled, out);
    return;
  }
  if (e->kind == ExprKind::Cast && isInt(e->dtype) && isInt(e->as<CastNode>().a->dtype)) {
    accumulate(e->as<CastNode>().a, scale, out);
    return;
  }
  addProduct(out.terms[toString(e)], scale, 1, out);
}

}  // namespace

std::optional<int64_t> constantDifference(const ExprRef& a, const ExprRef& b) {
  if (!isInt(a->dtype) || !isInt(b->dtype)) return std::nullopt;
  LinearForm form;
  accumulate(a, 1, form);
  accumulate(b, -1, form);
  if (!form.ok) return std::nullopt;
  for (const auto& [atom, coeff] : form.terms)
    if (coeff != 0) return std::nullopt;
  return form.constant;
}

}  // namespace tlc::ir
