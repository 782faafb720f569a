// Expressions: scalar expressions, their types and constant folding, built-in calls.
#include "sema/Analyzer.h"

namespace tlc::sema {

ExprRef Analyzer::scalarExpr(const ast::Expr& e) {
  switch (e.kind) {
    case ast::ExprKind::IntLit: {
      uint64_t v = e.as<ast::IntLit>().value;
      if (v > (uint64_t)INT64_MAX) fail(e.range, "integer literal is too large");
      return intImm((int64_t)v, v > (uint64_t)INT32_MAX ? DType::Int64 : DType::Int32);
    }
    case ast::ExprKind::FloatLit: return floatImm(e.as<ast::FloatLit>().value, DType::Float32);
    case ast::ExprKind::BoolLit: return intImm(e.as<ast::BoolLit>().value, DType::Bool);
    case ast::ExprKind::StringLit: fail(e.range, "a string is not allowed here");
    case ast::ExprKind::Name: {
      const auto& n = e.as<ast::Name>().name;
      const Value* v = lookup(n);
      if (v && v->kind == Value::None) throw Failed{};  // its declaration already failed
      if (!v) {
        if (dtypeFromName(n)) fail(e.range, "a dtype is not a value here");
        if (macros_.count(n)) fail(e.range, "macro '" + n + "' must be called");
        failUnknown(e.range, "use of undeclared name '" + n + "'", n, namesInScope());
      }
      switch (v->kind) {
        case Value::ConstInt:
          return intImm(v->intValue, v->intValue > INT32_MAX || v->intValue < INT32_MIN ? DType::Int64 : DType::Int32);
        case Value::ConstFloat: return floatImm(v->floatValue, DType::Float32);
        case Value::Scalar:
        case Value::Mutable: return v->expr;
        case Value::Descriptor:
          if (v->expr) return v->expr;  // p = extract_tensormap_ptr(D): the map's address
          break;
        default: break;
      }
      error(e.range, "'" + n + "' is " + describe(*v) + ", not a scalar value");
      noteDecl(n, v->decl);
      throw Failed{};
    }
    case ast::ExprKind::Unary: {
      const auto& u = e.as<ast::Unary>();
      ExprRef a = scalarExpr(*u.operand);
      switch (u.op) {
        case ast::UnaryOp::Plus: return a;
        case ast::UnaryOp::Neg:
          if (a->dtype == DType::Bool || isStorageOnly(a->dtype)) fail(e.range, std::string("cannot negate a ") + name(a->dtype));
          if (auto k = asConstInt(a); k && *k == INT64_MIN) fail(e.range, "integer overflow in a constant expression");
          return checkFits(unary(UnOp::Neg, a), e.range);
        case ast::UnaryOp::BitNot:
          if (!isInt(a->dtype)) fail(e.range, "'~' needs an integer operand");
          return unary(UnOp::BitNot, a);
        case ast::UnaryOp::Not: return unary(UnOp::Not, toBool(a, u.operand->range));
      }
      break;
    }
    case ast::ExprKind::Binary: {
      const auto& b = e.as<ast::Binary>();
      ExprRef l = scalarExpr(*b.lhs), r = scalarExpr(*b.rhs);
      switch (b.op) {
        case ast::BinaryOp::And: return binary(BinOp::And, toBool(l, b.lhs->range), toBool(r, b.rhs->range));
        case ast::BinaryOp::Or: return binary(BinOp::Or, toBool(l, b.lhs->range), toBool(r, b.rhs->range));
        default: break;
      }
      static const std::map<ast::BinaryOp, BinOp> ops = {
          {ast::BinaryOp::Add, BinOp::Add},       {ast::BinaryOp::Sub, BinOp::Sub},
          {ast::BinaryOp::Mul, BinOp::Mul},       {ast::BinaryOp::Div, BinOp::Div},
          {ast::BinaryOp::FloorDiv, BinOp::FloorDiv}, {ast::BinaryOp::Mod, BinOp::FloorMod},
          {ast::BinaryOp::Pow, BinOp::Pow},       {ast::BinaryOp::Shl, BinOp::Shl},
          {ast::BinaryOp::Shr, BinOp::Shr},       {ast::BinaryOp::BitAnd, BinOp::BitAnd},
          {ast::BinaryOp::BitOr, BinOp::BitOr},   {ast::BinaryOp::BitXor, BinOp::BitXor},
          {ast::BinaryOp::Lt, BinOp::Lt},         {ast::BinaryOp::Le, BinOp::Le},
          {ast::BinaryOp::Gt, BinOp::Gt},         {ast::BinaryOp::Ge, BinOp::Ge},
          {ast::BinaryOp::Eq, BinOp::Eq},         {ast::BinaryOp::Ne, BinOp::Ne}};
      return arith(ops.at(b.op), l, r, b.opRange);
    }
    case ast::ExprKind::Call: return callExpr(e.as<ast::Call>());
    case ast::ExprKind::Index: {
      const auto& ix = e.as<ast::Index>();
      if (const Value* cell = varCell(ix)) return cell->var;
      BufferRef buf = bufferOf(*ix.base);
      if (buf->pointerTable) failPointerElement(ix, buf);
      auto indices = elementIndices(ix, buf);
      return std::make_shared<LoadNode>(buf, indices, buf->dtype, 1);
    }
    case ast::ExprKind::Attribute: failAttribute(e.as<ast::Attribute>());
    case ast::ExprKind::Tuple: fail(e.range, "a tuple is not allowed here");
    case ast::ExprKind::Dict: fail(e.range, "a dict is only allowed as annotations={...}");
    case ast::ExprKind::Lambda: fail(e.range, "a lambda is only allowed in Fragment(...)");
  }
  fail(e.range, "unsupported expression");
}

ExprRef Analyzer::toBool(const ExprRef& v, SourceRange r) {
  if (v->dtype == DType::Bool) return v;
  if (isInt(v->dtype)) return binary(BinOp::Ne, v, intImm(0, v->dtype));
  fail(r, std::string("expected a bool, not ") + name(v->dtype));
}

ExprRef Analyzer::callExpr(const ast::Call& c) {
  std::string callee = calleeName(c);
  auto argCount = [&](size_t n) {
    if (c.args.size() != n) fail(c.range, "'" + callee + "' takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s"));
  };
  auto noKeywords = [&]() { checkKeywords(c, callee, {}); };
  if (callee == "ceildiv") {
    argCount(2); noKeywords();
    ExprRef a = scalarExpr(*c.args[0]), b = scalarExpr(*c.args[1]);
    if (!isInt(a->dtype) || !isInt(b->dtype)) fail(c.range, "ceildiv needs integer arguments");
    if (auto d = asConstInt(b); d && *d <= 0) fail(c.args[1]->range, "ceildiv needs a positive divisor");
    // -((-a) // b) is exact for every sign of a.
    if (auto k = asConstInt(a); k && *k == INT64_MIN) fail(c.args[0]->range, "integer overflow in a constant expression");
    return checkFits(unary(UnOp::Neg, floorDiv(unary(UnOp::Neg, a), b)), c.range);
  }
  // min / max / clamp of storage-only floats (fp8) of one dtype, as TileLang takes
  // them: computed in float32 and converted back, which is exact (the result is one
  // of the operands).
  auto storageOnlyCommon = [&](const std::vector<ExprRef>& xs) -> std::optional<DType> {
    if (!isStorageOnly(xs[0]->dtype) || !isFloat(xs[0]->dtype)) return std::nullopt;
    for (const auto& x : xs)
      if (x->dtype != xs[0]->dtype) return std::nullopt;
    return xs[0]->dtype;
  };
  if (callee == "min" || callee == "max") {
    argCount(2); noKeywords();
    ExprRef a = scalarExpr(*c.args[0]), b = scalarExpr(*c.args[1]);
    BinOp op = callee == "min" ? BinOp::Min : BinOp::Max;
    if (auto t = storageOnlyCommon({a, b}))
      return convert(*t, arith(op, convert(DType::Float32, a, c.args[0]->range), convert(DType::Float32, b, c.args[1]->range),
                               c.callee->range), c.range);
    return arith(op, a, b, c.callee->range);
  }
  if (callee == "clamp") {
    // clamp(x, lo, hi) = min(max(x, lo), hi), a NaN x staying NaN (TileLang's
    // T.clamp(dst, min_val, max_val): the bounds positional or by keyword).
    checkKeywords(c, callee, {"min_val", "max_val"});
    auto bound = [&](size_t position, const char* name) -> const ast::Expr& {
      const ast::Expr* byName = keyword(c, name);
      if (c.args.size() > position && byName) fail(byName->range, std::string(name) + " is given twice");
      if (c.args.size() > position) return *c.args[position];
      if (!byName) fail(c.range, "'clamp' takes (x, min_val, max_val)");
      return *byName;
    };
    if (c.args.empty() || c.args.size() > 3) fail(c.range, "'clamp' takes (x, min_val, max_val)");
    ExprRef x = scalarExpr(*c.args[0]), lo = scalarExpr(bound(1, "min_val")), hi = scalarExpr(bound(2, "max_val"));
    std::optional<DType> narrow = storageOnlyCommon({x, lo, hi});
    if (narrow) {
      x = convert(DType::Float32, x, c.args[0]->range);
      lo = convert(DType::Float32, lo, c.range);
      hi = convert(DType::Float32, hi, c.range);
    }
    ExprRef clamped = arith(BinOp::Min, arith(BinOp::Max, x, lo, c.callee->range), hi, c.callee->range);
    if (!isFloat(clamped->dtype)) return clamped;
    ExprRef wide = cast(clamped->dtype, x);
    ExprRef result = select(call(Builtin::Isnan, {wide}, DType::Bool), wide, clamped);
    return narrow ? convert(*narrow, result, c.range) : result;
  }
  if (auto math = mathFunctionNamed(callee)) {
    std::vector<const ast::Expr*> operands;
    if (callee == "round") {
      // round(x, mode) / round(x, rounding_mode=mode), TileLang's T.round: the mode
      // picks the builtin (ir/RoundingModes.def); round(x) is the first row's.
      checkKeywords(c, callee, {"rounding_mode"});
      const ast::Expr* byName = keyword(c, "rounding_mode");
      if (c.args.empty() || c.args.size() > 2) fail(c.range, "'round' takes (x) or (x, rounding_mode)");
      if (c.args.size() == 2 && byName) fail(byName->range, "rounding_mode is given twice");
      const ast::Expr* modeArg = c.args.size() == 2 ? c.args[1].get() : byName;
      RoundingMode mode = RoundingMode{};
      if (modeArg) mode = *roundingModeNamed(stringArg(*modeArg, "rounding_mode", roundingModeSpellings()));
      math = roundingBuiltin(mode);
      operands.push_back(c.args[0].get());
    } else {
      argCount(size_t(info(*math).arity)); noKeywords();
      for (const auto& arg : c.args) operands.push_back(arg.get());
    }
    const BuiltinInfo& row = info(*math);
    std::vector<ExprRef> args;
    for (const ast::Expr* arg : operands) args.push_back(scalarExpr(*arg));
    ExprRef a = args[0];
    // Rounding a storage-only float (fp8, fp4) to an integral value, as TileLang's
    // RoundTiesAwayFromZero does: in float32 and back, exact (the integral neighbour
    // of a value with p significant bits is representable in them). Not e8m0, which
    // has no zero.
    bool rounding = *math == Builtin::Floor || *math == Builtin::Ceil || *math == Builtin::Trunc ||
                    *math == Builtin::Round || *math == Builtin::Nearbyint;
    if (rounding && isStorageOnly(a->dtype) && isFloat(a->dtype) && a->dtype != DType::Float8E8M0)
      return convert(a->dtype, call(*math, {convert(DType::Float32, a, operands[0]->range)}, DType::Float32), c.range);
    if (callee == "abs" && isInt(a->dtype)) {
      if (auto k = asConstInt(a); k && *k == INT64_MIN) fail(c.args[0]->range, "integer overflow in a constant expression");
      return checkFits(select(lt(a, intImm(0, a->dtype)), unary(UnOp::Neg, a), a), c.range);
    }
    // The operands' common type: the widest float among them (an untyped float
    // literal takes the others' type); integers count as float32.
    DType operand = DType::Float32;
    bool sawFloat = false;
    for (size_t i = 0; i < args.size(); ++i) {
      DType t = args[i]->dtype;
      if (isStorageOnly(t) || (!isFloat(t) && !isInt(t)) ||
          (row.result == BuiltinResult::Bool && !isFloat(t)))
        fail(operands[i]->range, "'" + callee + "' needs a float argument, not " + name(t));
      if (!isFloat(t) || (args[i]->kind == ExprKind::FloatImm && t == DType::Float32)) continue;
      if (!sawFloat || bits(t) > bits(operand) || (bits(t) == bits(operand) && t == DType::Float16)) operand = t;
      sawFloat = true;
    }
    if (args.size() > 1)
      for (size_t i = 0; i < args.size(); ++i)
        if (isFloat(args[i]->dtype) && args[i]->kind != ExprKind::FloatImm && args[i]->dtype != operand)
          fail(operands[i]->range, "'" + callee + "' needs arguments of one float type; cast this " +
                                     name(args[i]->dtype) + " to " + name(operand));
    for (ExprRef& arg : args) arg = cast(operand, arg);
    // PTX has float64 square roots but no float64 ex2 / lg2 / tanh / sin.approx.
    if (operand == DType::Float64 && row.math != BuiltinMath::WithFloat64)
      fail(c.callee->range, "not yet supported: " + callee + " on float64");
    return call(*math, std::move(args), row.result == BuiltinResult::Bool ? DType::Bool : operand);
  }
  if (callee == "cast") {
    // cast(x, dtype) or cast(x, dtype=dtype)
    checkKeywords(c, callee, {"dtype"});
    if (c.args.size() + c.kwargs.size() != 2 || c.args.empty()) fail(c.range, "cast takes (value, dtype)");
    ExprRef a = scalarExpr(*c.args[0]);
    DType to = dtypeArg(c.args.size() == 2 ? *c.args[1] : *c.kwargs[0].value);
    return convert(to, a, c.range);
  }
  // A dtype called on a value converts it, as TileLang's T.float32(x) does (and a
  // `const` naming a dtype: `accum_dtype(0)`).
  const Value* named = lookup(callee);
  if (auto to = named ? std::nullopt : dtypeFromName(callee); to || (named && named->kind == Value::DTypeName)) {
    argCount(1); noKeywords();
    return convert(to ? *to : named->dtype, scalarExpr(*c.args[0]), c.range);
  }
  // TVM's Select (T.Select(c, a, b), both sides evaluated) is if_then_else here: a
  // read either side makes is guarded anyway.
  if (callee == "if_then_else" || callee == "Select") {
    argCount(3); noKeywords();
    ExprRef cond = toBool(scalarExpr(*c.args[0]), c.args[0]->range);
    return select(cond, scalarExpr(*c.args[1]), scalarExpr(*c.args[2]));
  }
  if (callee == "get_thread_binding") {
    checkKeywords(c, "get_thread_binding", {"dim"});
    int64_t dim = 0;
    if (c.args.size() > 1 || (c.args.size() == 1 && !c.kwargs.empty()))
      fail(c.range, "get_thread_binding takes an optional dim: get_thread_binding() or get_thread_binding(dim=0)");
    if (c.args.size() == 1) dim = constIntArg(*c.args[0], "dim");
    for (const auto& kw : c.kwargs) dim = constIntArg(*kw.value, "dim");
    if (dim != 0) fail(c.range, "get_thread_binding(dim=" + std::to_string(dim) + "): blocks are one-dimensional; valid: dim=0");
    return call(Builtin::ThreadIdx, {}, DType::Int32, 0);
  }
  if (callee == "tma_gather4_bytes") return gather4Bytes(c);
  if (callee == "extract_tensormap_ptr") return tensorMapPointer(c).expr;
  if (callee == "shuffle_elect") return shuffleElect(c);
  if (callee == "tma_gather4" || callee == "tma_scatter4") {
    requireBlackwell(c, callee);
    fail(c.range, "'" + callee + "' has no value; call it as a statement");
  }
  if (callee == "Fragment")
    fail(c.range, "Fragment(...) makes a layout, not a value; name it (L = Fragment(...)) and pass loop_layout=L");
  if (callee == "annotate_safe_value") fail(c.range, "'annotate_safe_value' has no value; call it as a statement");
  if (callee == "block_rank_in_cluster") {
    requireTargetFor(c, callee);
    // %cluster_ctarank: 0 .. CX*CY*CZ-1, x fastest; 0 in a kernel without clusters.
    argCount(0); noKeywords();
    return call(Builtin::ClusterCtaRank, {}, DType::Int32);
  }
  if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
  if (callee == "swizzled" || callee == "padded" || callee == "Layout")
    fail(c.range, "'" + callee + "(...)' is a layout, not a value; give it to annotate_layout({tile: " + callee +
                      (callee == "Layout" ? "(tile.shape, lambda i, j: ...)})" : "(tile, ...)})"));
  if (callee == "annotate_layout") fail(c.range, "'annotate_layout' has no value; call it as a statement");
  if (macros_.count(callee)) fail(c.range, "macro '" + callee + "' has no value; call it as a statement");
  if (isAtomicName(callee))
    fail(c.range, "'" + callee + "' has a value only as the whole right side of an assignment: old = " + callee +
                      "(dst, value, return_prev=True) (or out[i] = ...)");
  if (vocabulary::kindOf(callee) == vocabulary::Kind::Statement)
    fail(c.range, "'" + callee + "' has no value; call it as a statement");
  if (isRegionHelper(callee))
    fail(c.range, "'" + callee + "(...)' is a region, not a value; pass it as an operand of a tile operation: "
                  "copy(" + callee + "(...), ...)");
  if (makesBuffer(callee))
    fail(c.range, "'" + callee + "' makes a buffer, not a value; give it a name on its own: X = " + callee + "(...)");
  failUnknownFunction(c, callee);
}

}  // namespace tlc::sema
