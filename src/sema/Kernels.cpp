// Kernels: a kernel's parameters (Tensor, StridedTensor, Buffer, ptr, scalars, symbolic
// dimensions) and its launch block `with Kernel(...) as (...)`.
#include "sema/Analyzer.h"

namespace tlc::sema {

std::optional<Kernel> Analyzer::analyzeKernel(const ast::FunctionDecl& decl) {
  Kernel k;
  k.name = decl.name;
  k.sourceName = decl.name;
  k.range = decl.range;
  kernel_ = &k;
  scopes_.clear();
  scopes_.emplace_back();
  dimParams_.clear();
  localNames_.clear();
  usedBuffers_.clear();
  safeValueAt_.clear();  // keyed by this kernel's buffers, which die with it
  loopRanges_.clear();
  macroDepth_ = 0;
  expanded_ = 0;
  expansionWeight_ = 1;
  overBudget_ = false;
  unsigned errorsBefore = diags_.errorCount();

  for (const auto& p : decl.params) {
    try {
      analyzeKernelParam(p);
    } catch (Failed&) {
      // Uses of a parameter whose declaration failed stay quiet instead of cascading.
      if (!lookup(p.name)) scopes_.front()[p.name] = Value{};
    }
  }

  // The body: exactly one `with Kernel(...)`.
  const ast::With* launch = nullptr;
  for (const auto& s : decl.body->stmts)
    if (s->kind == ast::StmtKind::With) {
      launch = &s->as<ast::With>();
      break;
    }
  if (!launch) {
    error(decl.nameRange, "kernel '" + decl.name + "' has no 'with Kernel(...) as (...)' block");
    return std::nullopt;
  }
  for (const auto& s : decl.body->stmts) {
    if (s.get() == launch) continue;
    error(s->range, s->range.begin.offset < launch->range.begin.offset
                               ? "statements before 'with Kernel(...)' are not supported; put them inside the block"
                               : "a kernel holds one 'with Kernel(...)' block and nothing after it");
  }
  try {
    k.body = analyzeLaunch(*launch);
  } catch (Failed&) {
  }
  kernel_ = nullptr;
  if (diags_.errorCount() != errorsBefore) return std::nullopt;
  warnUnusedTiles(k);
  k.expandedStatements = expanded_;
  return k;
}

// A tile nobody reads or writes still costs shared memory (and occupancy) or
// registers; usually it is a leftover or a typo for another tile's name.
void Analyzer::warnUnusedTiles(const Kernel& k) {
  for (const BufferRef& b : k.allocations) {
    if (usedBuffers_.count(b)) continue;
    std::string shape;
    int64_t numel = 1;
    for (const auto& s : b->shape) {
      shape += (shape.empty() ? "" : "x") + std::to_string(*asConstInt(s));
      numel *= *asConstInt(s);
    }
    std::string what = b->scope == MemScope::Shared ? "shared tile" : b->scope == MemScope::Fragment ? "fragment" : "local buffer";
    std::string cost = b->scope == MemScope::Shared ? ", " + std::to_string(numel * bits(b->dtype) / 8) + " bytes of shared memory" : "";
    warning(Warning::UnusedTile, b->declRange,
            what + " '" + b->name + "' (" + shape + " " + ir::name(b->dtype) + cost + ") is never used");
  }
}

VarRef Analyzer::dimParam(const std::string& name, SourceRange r) {
  if (auto it = dimParams_.find(name); it != dimParams_.end()) return it->second;
  if (const Value* v = lookup(name)) {
    // A scalar int32 parameter named in a shape is that same value.
    if (v->kind == Value::Scalar && v->expr->kind == ExprKind::Var && isInt(v->expr->dtype)) {
      auto var = std::static_pointer_cast<const VarNode>(v->expr);
      dimParams_[name] = var;
      return var;
    }
    error(r, "'" + name + "' cannot be a dimension: it is not an integer");
    noteDecl(name, v->decl);
    throw Failed{};
  }
  auto var = makeVar(name, DType::Int32);
  Param p;
  p.name = name;
  p.kind = ParamKind::Dim;
  p.var = var;
  p.range = r;
  kernel_->params.push_back(p);
  dimParams_[name] = var;
  Value v;
  v.kind = Value::Scalar;
  v.expr = var;
  scopes_.front()[name] = v;
  scopes_.front()[name].decl = r;
  return var;
}

ExprRef Analyzer::shapeEntry(const ast::Expr& e, bool isStride) {
  int64_t value;
  if (e.kind == ast::ExprKind::Name && !globals_.count(e.as<ast::Name>().name)) {
    const auto& n = e.as<ast::Name>().name;
    if (dtypeFromName(n)) fail(e.range, "a dtype cannot be a " + std::string(isStride ? "stride" : "shape entry"));
    return dimParam(n, e.range);
  }
  if (e.kind == ast::ExprKind::Name) {
    const auto& n = e.as<ast::Name>().name;
    const Value& g = globals_.at(n);
    if (g.kind != Value::ConstInt) fail(e.range, "shape entry '" + n + "' is not an integer");
    value = g.intValue;
  } else {
    value = evalShapeConst(e).intValue;
  }
  if (!isStride && value <= 0) fail(e.range, "a shape entry must be positive, not " + std::to_string(value));
  if (isStride && value < 0) fail(e.range, "a stride must not be negative, not " + std::to_string(value));
  if (value > INT32_MAX) fail(e.range, "a " + std::string(isStride ? "stride" : "shape entry") + " must fit in int32, not " + std::to_string(value));
  return intImm(value);
}

Value Analyzer::evalShapeConst(const ast::Expr& e) {
  // Anything but a bare name must fold to a constant.
  struct Guard {};
  Value v;
  try {
    v = evalConst(e);
  } catch (Failed&) {
    diags_.note(e.range, "a shape entry is a const expression or a single symbolic name");
    throw;
  }
  if (v.kind != Value::ConstInt) fail(e.range, "shape entry must be an integer");
  return v;
}

std::vector<const ast::Expr*> Analyzer::tupleItems(const ast::Expr& e) {
  std::vector<const ast::Expr*> out;
  if (e.kind == ast::ExprKind::Tuple)
    for (const auto& x : e.as<ast::Tuple>().elements) out.push_back(x.get());
  else
    out.push_back(&e);
  return out;
}

DType Analyzer::dtypeArg(const ast::Expr& e) {
  if (e.kind == ast::ExprKind::Name) {
    const auto& n = e.as<ast::Name>().name;
    if (auto t = dtypeFromName(n)) return *t;
    if (const Value* v = lookup(n); v && v->kind == Value::DTypeName) return v->dtype;
  }
  if (e.kind == ast::ExprKind::StringLit)
    if (auto t = dtypeFromName(e.as<ast::StringLit>().value)) return *t;
  fail(e.range, "expected a dtype (float16, bfloat16, float32, int32, ...)");
}

std::string Analyzer::calleeName(const ast::Call& c) {
  if (c.callee->kind == ast::ExprKind::Name) return c.callee->as<ast::Name>().name;
  if (c.callee->kind == ast::ExprKind::Attribute) {
    const auto& a = c.callee->as<ast::Attribute>();
    if (a.base->kind == ast::ExprKind::Name) return a.base->as<ast::Name>().name + "." + a.name;
  }
  return "";
}

void Analyzer::analyzeKernelParam(const ast::Param& p) {
  const ast::Expr& t = *p.type;
  if (const Value* existing = lookup(p.name)) {
    // `A: Tensor((n,), ...), n: int32`: the dimension named first is this scalar.
    if (adoptDimAsScalar(p, *existing)) return;
    error(p.nameRange, "parameter '" + p.name + "' redefines a name");
    noteDecl(p.name, existing->decl);
    throw Failed{};
  }
  if (t.kind == ast::ExprKind::Name) {
    DType dt = dtypeArg(t);
    if (isStorageOnly(dt)) fail(t.range, std::string("a scalar parameter cannot have the storage-only type ") + name(dt));
    auto var = makeVar(p.name, dt);
    Param param;
    param.name = p.name;
    param.kind = ParamKind::Scalar;
    param.var = var;
    param.range = p.range;
    kernel_->params.push_back(param);
    Value v;
    v.kind = Value::Scalar;
    v.expr = var;
    define(p.name, v, p.nameRange);
    return;
  }
  if (t.kind != ast::ExprKind::Call) fail(t.range, "expected a parameter type: Tensor(...), StridedTensor(...), Buffer(...), ptr(dtype) or a scalar dtype");
  const auto& c = t.as<ast::Call>();
  std::string kind = calleeName(c);
  if (kind == "ptr") {
    // ptr(dtype[, storage_scope]): TileLang's T.ptr; a kernel parameter points to global memory.
    checkKeywords(c, "ptr", {"storage_scope"});
    const ast::Expr* scope = keyword(c, "storage_scope");
    if (c.args.size() == 2 && scope) fail(scope->range, "ptr's storage_scope is given twice");
    if (c.args.empty() || c.args.size() > 2) fail(t.range, "ptr takes a dtype and an optional storage scope: ptr(float16) or ptr(float16, \"global\")");
    DType dt = dtypeArg(*c.args[0]);
    if (c.args.size() == 2) scope = c.args[1].get();
    if (scope && stringValue(*scope, "storage_scope", "\"global\"") != "global")
      fail(scope->range, "a ptr parameter points to global memory; its storage_scope must be \"global\", not \"" +
                             scope->as<ast::StringLit>().value + "\"");
    auto var = makeVar(p.name, DType::Handle);
    Param param;
    param.name = p.name;
    param.kind = ParamKind::Pointer;
    param.var = var;
    param.elementType = dt;
    param.range = p.range;
    kernel_->params.push_back(param);
    Value v;
    v.kind = Value::Pointer;
    v.var = var;
    v.dtype = dt;
    define(p.name, v, p.nameRange);
    return;
  }
  if (kind != "Tensor" && kind != "StridedTensor" && kind != "Buffer") {
    if (kind == "SharedBuffer" || kind == "FragmentBuffer" || kind == "LocalBuffer")
      fail(c.callee->range, kind + " is a macro parameter type; a kernel parameter lives in global memory (Tensor, StridedTensor, Buffer or ptr)");
    fail(c.callee->range, "unknown parameter type '" + kind + "'; expected Tensor, StridedTensor, Buffer, ptr or a dtype");
  }
  if (kind == "Buffer") checkKeywords(c, kind, {"scope", "strides", "elem_offset", "align"});
  else checkKeywords(c, kind, {});

  // The pointer parameter comes first, then the dimensions it introduces.
  auto data = makeVar(p.name, DType::Handle);
  Param param;
  param.name = p.name;
  param.kind = ParamKind::Pointer;
  param.var = data;
  param.range = p.range;
  size_t pointerIndex = kernel_->params.size();
  kernel_->params.push_back(param);

  size_t needed = kind == "StridedTensor" ? 3 : 2;
  if (c.args.size() != needed)
    fail(t.range, kind == "StridedTensor" ? "StridedTensor takes (shape, strides, dtype)" : kind + " takes (shape, dtype)");
  auto buf = std::make_shared<Buffer>();
  buf->name = p.name;
  buf->scope = MemScope::Global;
  buf->data = data;
  buf->declRange = p.nameRange;
  auto shape = tupleItems(*c.args[0]);
  if (shape.empty()) fail(c.args[0]->range, "a tensor needs at least one dimension");
  for (const auto* s : shape) buf->shape.push_back(shapeEntry(*s));
  int64_t constantElements = 1;  // element offsets are int64: the constant entries' product must fit
  for (const auto& e : buf->shape)
    if (auto k = asConstInt(e); k && __builtin_mul_overflow(constantElements, *k, &constantElements))
      fail(c.args[0]->range, "tensor '" + p.name + "' has more elements than an int64 offset can address");
  const ast::Expr* strides = kind == "StridedTensor" ? c.args[1].get() : keyword(c, "strides");
  if (strides) {
    auto items = tupleItems(*strides);
    if (items.size() != buf->shape.size())
      fail(strides->range, kind + " has " + std::to_string(buf->shape.size()) + " shape entries but " +
                               std::to_string(items.size()) + " strides");
    for (const auto* s : items) buf->strides.push_back(shapeEntry(*s, /*isStride=*/true));
  } else {
    buf->strides = rowMajorStrides(buf->shape);
  }
  buf->dtype = dtypeArg(*c.args[needed - 1]);
  if (const ast::Expr* scope = keyword(c, "scope")) {
    std::string s = stringValue(*scope, "scope", kValidScopes);
    auto sc = scopeFromName(s);
    if (!sc) fail(scope->range, "unknown scope \"" + s + "\"; valid: " + kValidScopes);
    if (*sc != MemScope::Global)
      fail(scope->range, "a kernel parameter lives in global memory: scope must be \"global\", not \"" + s + "\"");
  }
  if (const ast::Expr* align = keyword(c, "align")) {
    // The caller's promise about the data pointer, in bytes (TVM's data_alignment).
    int64_t a = constIntArg(*align, "align");
    int64_t elementBytes = std::max(1, bits(buf->dtype) / 8);
    if (a < elementBytes || (a & (a - 1)) != 0 || a > 1024)
      fail(align->range, "align must be a power of two between the element size (" + std::to_string(elementBytes) +
                             " bytes) and 1024, not " + std::to_string(a));
    buf->alignBytes = (int)a;
  }
  // elem_offset: the tensor starts that many elements past the pointer (a constant
  // or a symbolic dimension, passed to the launcher like one).
  if (const ast::Expr* offset = keyword(c, "elem_offset")) buf->elemOffset = shapeEntry(*offset, /*isStride=*/true);
  kernel_->params[pointerIndex].elementType = buf->dtype;
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(p.name, v, p.nameRange);
}

bool Analyzer::adoptDimAsScalar(const ast::Param& p, const Value& existing) {
  auto dim = dimParams_.find(p.name);
  if (dim == dimParams_.end() || existing.kind != Value::Scalar || existing.expr != dim->second) return false;
  if (p.type->kind != ast::ExprKind::Name) return false;
  auto dt = dtypeFromName(p.type->as<ast::Name>().name);
  if (!dt) return false;
  if (*dt != DType::Int32)
    fail(p.type->range, "'" + p.name + "' is a dimension of an earlier parameter, so it must be int32, not " + name(*dt));
  auto& params = kernel_->params;
  auto it = std::find_if(params.begin(), params.end(),
                         [&](const Param& q) { return q.kind == ParamKind::Dim && q.var == dim->second; });
  if (it == params.end()) return false;
  Param param = *it;
  params.erase(it);
  param.kind = ParamKind::Scalar;
  param.range = p.range;
  params.push_back(param);
  scopes_.front()[p.name].decl = p.nameRange;
  return true;
}

std::vector<ExprRef> Analyzer::rowMajorStrides(const std::vector<ExprRef>& shape) {
  std::vector<ExprRef> strides(shape.size());
  ExprRef acc = intImm(1);
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = acc;
    acc = mul(acc, shape[i]);
  }
  return strides;
}

StmtRef Analyzer::analyzeLaunch(const ast::With& w) {
  if (w.context->kind != ast::ExprKind::Call || calleeName(w.context->as<ast::Call>()) != "Kernel")
    fail(w.context->range, "expected 'with Kernel(grid..., threads=N) as (bx, ...)'");
  const auto& c = w.context->as<ast::Call>();
  checkKeywords(c, "Kernel", {"threads", "cluster_dims"});
  if (c.args.empty() || c.args.size() > 3) fail(c.range, "Kernel takes 1 to 3 grid extents");
  for (int i = 0; i < 3; ++i) kernel_->grid[i] = intImm(1);
  for (size_t i = 0; i < c.args.size(); ++i) {
    ExprRef g = scalarExpr(*c.args[i]);
    if (!isInt(g->dtype)) fail(c.args[i]->range, "a grid extent must be an integer");
    if (auto k = asConstInt(g); k && (*k < 1 || *k > INT32_MAX))
      fail(c.args[i]->range, "a grid extent must be positive, not " + std::to_string(*k));
    kernel_->grid[i] = cast(DType::Int32, g);
  }
  bool haveThreads = false;
  const ast::Expr* clusterAt = nullptr;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "threads") {
      auto t = constIntArg(*kw.value, "threads");
      if (t < 1 || t > 1024) fail(kw.value->range, "threads must be between 1 and 1024, not " + std::to_string(t));
      kernel_->threads = (int)t;
      haveThreads = true;
    } else if (kw.name == "cluster_dims") {
      if (std::string why = targetLacks(TargetFeature::Clusters, "cluster_dims"); !why.empty()) fail(kw.nameRange, why);
      // Blocks launched together as a cluster (cuLaunchKernelEx). Hopper runs up to
      // 8 blocks per cluster portably and 16 where the kernel opts in (the launcher
      // sets CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED for 9 to 16).
      auto items = tupleItems(*kw.value);
      if (kw.value->kind != ast::ExprKind::Tuple || items.size() != 3)
        fail(kw.value->range, "cluster_dims takes three extents (CX, CY, CZ)");
      int64_t blocks = 1;
      for (int i = 0; i < 3; ++i) {
        int64_t d = constIntArg(*items[i], "a cluster extent");
        if (d < 1) fail(items[i]->range, "a cluster extent must be positive, not " + std::to_string(d));
        if (d > 16) fail(items[i]->range, "a cluster extent must be at most 16, not " + std::to_string(d));
        kernel_->clusterDims[i] = (int)d;
        blocks *= d;
      }
      if (blocks > 16)
        fail(kw.value->range, "a cluster holds at most 16 blocks (8 portably); cluster_dims=(" +
                                  std::to_string(kernel_->clusterDims[0]) + ", " + std::to_string(kernel_->clusterDims[1]) +
                                  ", " + std::to_string(kernel_->clusterDims[2]) + ") has " + std::to_string(blocks));
      clusterAt = kw.value.get();
    }
  }
  // A constant grid extent must be whole clusters; a symbolic one is checked by the launcher.
  for (size_t i = 0; clusterAt && i < 3; ++i)
    if (auto g = asConstInt(kernel_->grid[i]); g && *g % kernel_->clusterDims[i] != 0) {
      static const char* axis = "xyz";
      error(i < c.args.size() ? c.args[i]->range : c.range, "grid extent " + std::to_string(*g) + " along " + axis[i] +
                                  " is not a multiple of the cluster's extent " + std::to_string(kernel_->clusterDims[i]) +
                                  "; the grid must be whole clusters");
      diags_.note(clusterAt->range, "cluster shape given here");
      throw Failed{};
    }
  if (!haveThreads) fail(c.range, "Kernel needs threads=N (the block size)");
  threads_ = kernel_->threads;
  if (w.bindings.size() > c.args.size())
    fail(w.bindings[c.args.size()].range, "Kernel has " + std::to_string(c.args.size()) + " grid extent" +
                                              (c.args.size() == 1 ? "" : "s") + " but " + std::to_string(w.bindings.size()) +
                                              " block indices are bound");
  scopes_.emplace_back();
  for (size_t i = 0; i < w.bindings.size(); ++i) {
    Value v;
    v.kind = Value::Scalar;
    v.expr = call(Builtin::BlockIdx, {}, DType::Int32, (int)i);
    define(w.bindings[i].name, v, w.bindings[i].range);
  }
  auto body = block(*w.body, /*newScope=*/false);
  scopes_.pop_back();
  return body;
}

int64_t Analyzer::constIntArg(const ast::Expr& e, const std::string& what) {
  ExprRef v = scalarExpr(e);
  auto c = asConstInt(v);
  if (!c) fail(e.range, what + " must be a compile-time integer");
  return *c;
}

}  // namespace tlc::sema
