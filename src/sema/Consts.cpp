// Consts: folding `const` expressions (integers, floats, dtypes) with overflow checks.
#include "sema/Analyzer.h"

namespace tlc::sema {

Value Analyzer::evalConst(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::IntLit: {
      auto v = e.as<ast::IntLit>().value;
      if (v > (uint64_t)INT64_MAX) fail(e.range, "integer literal is too large");
      Value r; r.kind = Value::ConstInt; r.intValue = (int64_t)v; return r;
    }
    case ast::ExprKind::FloatLit: {
      Value r; r.kind = Value::ConstFloat; r.floatValue = e.as<ast::FloatLit>().value; return r;
    }
    case ast::ExprKind::BoolLit: {
      Value r; r.kind = Value::ConstInt; r.intValue = e.as<ast::BoolLit>().value; return r;
    }
    case ast::ExprKind::Name: {
      const auto& n = e.as<ast::Name>().name;
      if (auto t = dtypeFromName(n)) { Value r; r.kind = Value::DTypeName; r.dtype = *t; return r; }
      auto it = globals_.find(n);
      if (it != globals_.end() && (it->second.kind == Value::ConstInt || it->second.kind == Value::ConstFloat ||
                                   it->second.kind == Value::DTypeName))
        return it->second;
      if (declaredAt_.count(n)) fail(e.range, "'" + n + "' is not a constant here");
      fail(e.range, "use of undeclared name '" + n + "' in a const expression");
    }
    case ast::ExprKind::Unary: {
      const auto& u = e.as<ast::Unary>();
      Value a = evalConst(*u.operand);
      if (a.kind == Value::ConstFloat && u.op == ast::UnaryOp::Neg) { a.floatValue = -a.floatValue; return a; }
      if (a.kind == Value::ConstFloat && u.op == ast::UnaryOp::Plus) return a;
      if (a.kind != Value::ConstInt) fail(e.range, "operand of a const expression must be a number");
      switch (u.op) {
        case ast::UnaryOp::Neg:
          if (a.intValue == INT64_MIN) fail(e.range, "integer overflow in a const expression");
          a.intValue = -a.intValue;
          break;
        case ast::UnaryOp::Plus: break;
        case ast::UnaryOp::BitNot: a.intValue = ~a.intValue; break;
        case ast::UnaryOp::Not: a.intValue = !a.intValue; break;
      }
      return a;
    }
    case ast::ExprKind::Binary: {
      const auto& b = e.as<ast::Binary>();
      Value l = evalConst(*b.lhs), r = evalConst(*b.rhs);
      if (l.kind == Value::DTypeName || r.kind == Value::DTypeName)
        fail(b.opRange, "a dtype cannot be an operand of '" + std::string(ast::spelling(b.op)) + "'");
      if (l.kind == Value::ConstInt && r.kind == Value::ConstInt) return foldIntBinary(b, l.intValue, r.intValue);
      double x = l.kind == Value::ConstInt ? (double)l.intValue : l.floatValue;
      double y = r.kind == Value::ConstInt ? (double)r.intValue : r.floatValue;
      Value out; out.kind = Value::ConstFloat;
      switch (b.op) {
        case ast::BinaryOp::Add: out.floatValue = x + y; break;
        case ast::BinaryOp::Sub: out.floatValue = x - y; break;
        case ast::BinaryOp::Mul: out.floatValue = x * y; break;
        case ast::BinaryOp::Div: out.floatValue = x / y; break;
        case ast::BinaryOp::Pow: out.floatValue = std::pow(x, y); break;
        default: fail(b.opRange, "operator '" + std::string(ast::spelling(b.op)) + "' is not defined on floats in a const expression");
      }
      return out;
    }
    case ast::ExprKind::Call: {
      const auto& c = e.as<ast::Call>();
      std::string callee = c.callee->kind == ast::ExprKind::Name ? c.callee->as<ast::Name>().name : "";
      if ((callee == "ceildiv" || callee == "min" || callee == "max") && c.args.size() == 2 && c.kwargs.empty()) {
        Value a = evalConst(*c.args[0]), b = evalConst(*c.args[1]);
        if (a.kind != Value::ConstInt || b.kind != Value::ConstInt) fail(e.range, "'" + callee + "' needs integer arguments here");
        Value r; r.kind = Value::ConstInt;
        if (callee == "ceildiv") {
          if (b.intValue == 0) fail(c.args[1]->range, "division by zero in a const expression");
          r.intValue = -floorDivI(-a.intValue, b.intValue);
        } else {
          r.intValue = callee == "min" ? std::min(a.intValue, b.intValue) : std::max(a.intValue, b.intValue);
        }
        return r;
      }
      fail(e.range, "a const must be a number or a dtype computed from literals and other consts");
    }
    default: fail(e.range, "a const must be a number or a dtype computed from literals and other consts");
  }
}

int64_t Analyzer::floorDivI(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Value Analyzer::foldIntBinary(const ast::Binary& b, int64_t x, int64_t y) {
  Value r; r.kind = Value::ConstInt;
  auto overflow = [&](bool bad) { if (bad) fail(b.range, "integer overflow in a const expression"); };
  switch (b.op) {
    case ast::BinaryOp::Add: overflow(__builtin_add_overflow(x, y, &r.intValue)); break;
    case ast::BinaryOp::Sub: overflow(__builtin_sub_overflow(x, y, &r.intValue)); break;
    case ast::BinaryOp::Mul: overflow(__builtin_mul_overflow(x, y, &r.intValue)); break;
    case ast::BinaryOp::Div: fail(b.opRange, "'/' on integers is not allowed; use '//' for floor division");
    case ast::BinaryOp::FloorDiv:
    case ast::BinaryOp::Mod:
      if (y == 0) fail(b.rhs->range, "division by zero in a const expression");
      if (x == INT64_MIN && y == -1) fail(b.range, "integer overflow in a const expression");
      r.intValue = b.op == ast::BinaryOp::FloorDiv ? floorDivI(x, y) : x - floorDivI(x, y) * y;
      break;
    case ast::BinaryOp::Pow: {
      if (y < 0) fail(b.rhs->range, "negative exponent in an integer const expression");
      int64_t acc = 1;
      if (x == 0 || x == 1 || x == -1) {  // closed form: a loop of y steps would hang for y ~ 2^63
        acc = x == 0 ? (y == 0 ? 1 : 0) : (x == 1 || y % 2 == 0 ? 1 : -1);
      } else {
        for (int64_t i = 0; i < y; ++i) overflow(__builtin_mul_overflow(acc, x, &acc));  // at most 63 steps
      }
      r.intValue = acc;
      break;
    }
    case ast::BinaryOp::Shl:
      if (y < 0 || y > 62) fail(b.rhs->range, "shift amount out of range");
      overflow(x > (INT64_MAX >> y) || x < (INT64_MIN >> y));
      r.intValue = x * (int64_t(1) << y);  // `x << y` is undefined for negative x before C++20
      break;
    case ast::BinaryOp::Shr:
      if (y < 0 || y > 62) fail(b.rhs->range, "shift amount out of range");
      r.intValue = x >> y;
      break;
    case ast::BinaryOp::BitAnd: r.intValue = x & y; break;
    case ast::BinaryOp::BitOr: r.intValue = x | y; break;
    case ast::BinaryOp::BitXor: r.intValue = x ^ y; break;
    case ast::BinaryOp::Lt: r.intValue = x < y; break;
    case ast::BinaryOp::Le: r.intValue = x <= y; break;
    case ast::BinaryOp::Gt: r.intValue = x > y; break;
    case ast::BinaryOp::Ge: r.intValue = x >= y; break;
    case ast::BinaryOp::Eq: r.intValue = x == y; break;
    case ast::BinaryOp::Ne: r.intValue = x != y; break;
    case ast::BinaryOp::And: r.intValue = x && y; break;
    case ast::BinaryOp::Or: r.intValue = x || y; break;
  }
  return r;
}

}  // namespace tlc::sema
