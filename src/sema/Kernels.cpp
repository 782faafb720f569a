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
  unboundedChunks_.clear();
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
    error(decl.nameRange, "kernel '" + decl.name + "' has no 'with Kernel(...)' block");
    return std::nullopt;
  }
  // Before the block, as TileLang writes them: assume(...) and alloc_global(...)
  // (both about the launch, not a thread); anything else belongs inside.
  bool before = true;
  for (const auto& s : decl.body->stmts) {
    if (s.get() == launch) {
      before = false;
      continue;
    }
    if (!before) {
      error(s->range, "a kernel holds one 'with Kernel(...)' block and nothing after it");
      continue;
    }
    const ast::Expr* call = s->kind == ast::StmtKind::Expr ? s->as<ast::ExprStmt>().expr.get()
                            : s->kind == ast::StmtKind::Assign ? s->as<ast::Assign>().value.get()
                                                               : nullptr;
    std::string callee = call && call->kind == ast::ExprKind::Call ? calleeName(call->as<ast::Call>()) : "";
    bool allowed = (s->kind == ast::StmtKind::Expr && callee == "assume") ||
                   (s->kind == ast::StmtKind::Assign && callee == "alloc_global");
    if (!allowed) {
      error(s->range, "only assume(...) and alloc_global(...) may come before 'with Kernel(...)'; put this statement "
                      "inside the block");
      continue;
    }
    try {
      stmt(*s);
    } catch (Failed&) {
    }
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
    if (usedBuffers_.count(b) || b->viewOf) continue;  // a view costs nothing
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
  if (e.kind == ast::ExprKind::Tuple) {
    for (const auto& x : e.as<ast::Tuple>().elements) out.push_back(x.get());
  } else if (const ast::Expr* list = repeatedList(e)) {
    // Python's list repetition, [32] * 4 (TileLang's alloc_barrier([warp] * warps)).
    const auto& b = e.as<ast::Binary>();
    int64_t times = constIntArg(list == b.lhs.get() ? *b.rhs : *b.lhs, "a list's repeat count");
    if (times < 0 || times > 4096) fail(e.range, "a list is repeated 0 to 4096 times here, not " + std::to_string(times));
    for (int64_t i = 0; i < times; ++i)
      for (const auto& x : list->as<ast::Tuple>().elements) out.push_back(x.get());
  } else {
    out.push_back(&e);
  }
  return out;
}

// The list of `[a, b] * k` or `k * [a, b]`, or null.
const ast::Expr* Analyzer::repeatedList(const ast::Expr& e) {
  if (e.kind != ast::ExprKind::Binary || e.as<ast::Binary>().op != ast::BinaryOp::Mul) return nullptr;
  const auto& b = e.as<ast::Binary>();
  if (b.lhs->kind == ast::ExprKind::Tuple) return b.lhs.get();
  if (b.rhs->kind == ast::ExprKind::Tuple) return b.rhs.get();
  return nullptr;
}

DType Analyzer::dtypeArg(const ast::Expr& e, bool sharedStorage) {
  std::optional<DType> found;
  if (e.kind == ast::ExprKind::Name) {
    const auto& n = e.as<ast::Name>().name;
    if (auto t = dtypeFromName(n)) found = t;
    else if (const Value* v = lookup(n); v && v->kind == Value::DTypeName) found = v->dtype;
  }
  if (e.kind == ast::ExprKind::StringLit) found = dtypeFromName(e.as<ast::StringLit>().value);
  if (found) {
    // TileLang's fp4 storage that a TMA load unpacks: a shared tile's dtype, nothing else.
    if (*found == DType::Float4E2M1Unpacked && !sharedStorage)
      fail(e.range, "float4_e2m1_unpacked is shared-memory storage that a tma_copy load of float4_e2m1fn fills; "
                    "only alloc_shared takes it (use float4_e2m1fn elsewhere)");
    return *found;
  }
  // TileLang's T.ptr is an element type only of a table parameter (globalTensor).
  if (namesPtr(e))
    fail(e.range, "ptr is an element type only of a kernel parameter's table of pointers, Tensor((n,), ptr) "
                  "(view an element with make_tensor(table[i], shape, dtype)); a pointer parameter is ptr(dtype)");
  std::string written = e.kind == ast::ExprKind::Name        ? e.as<ast::Name>().name
                        : e.kind == ast::ExprKind::StringLit ? e.as<ast::StringLit>().value
                        : e.kind == ast::ExprKind::Attribute ? e.as<ast::Attribute>().name
                                                             : "";
  auto candidates = vocabulary::namesOf({vocabulary::Kind::DType});
  for (const auto& [name, value] : globals_)
    if (value.kind == Value::DTypeName) candidates.push_back(name);
  failUnknown(e.range, "expected a dtype (float16, bfloat16, float32, int32, ...)", written, candidates);
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
    kernel_->signature.push_back({p.name, Kernel::SourceParam::Kind::Scalar, nullptr, var, dt});
    Value v;
    v.kind = Value::Scalar;
    v.expr = var;
    define(p.name, v, p.nameRange);
    return;
  }
  std::string kind = proxyKind(t);
  if (t.kind == ast::ExprKind::Call && kind == "ptr") {
    // ptr(dtype=None, storage_scope="global", *, is_size_var=False): TileLang's T.ptr;
    // a kernel parameter points to global memory. Without a dtype its views choose
    // one (float32 by default). is_size_var asks TVM for a SizeVar (a value known
    // to be non-negative), which says nothing about an address: accepted, no effect.
    const auto& c = t.as<ast::Call>();
    checkKeywords(c, "ptr", {"dtype", "storage_scope", "is_size_var"});
    if (c.args.size() > 2) fail(c.args[2]->range, "ptr takes (dtype, storage_scope) and the keyword is_size_var");
    const ast::Expr* dtype = c.args.size() > 0 ? c.args[0].get() : nullptr;
    const ast::Expr* scope = c.args.size() > 1 ? c.args[1].get() : nullptr;
    for (const auto& kw : c.kwargs) {
      const ast::Expr*& slot = kw.name == "dtype" ? dtype : kw.name == "storage_scope" ? scope : dtype;
      if (kw.name == "is_size_var") {
        boolArg(*kw.value, "is_size_var");
        continue;
      }
      if (slot) fail(kw.nameRange, "ptr's " + kw.name + " is given twice");
      slot = kw.value.get();
    }
    bool untyped = !dtype || (dtype->kind == ast::ExprKind::Name && dtype->as<ast::Name>().name == "None");
    DType dt = untyped ? DType::UInt8 : dtypeArg(*dtype);
    if (dt == DType::Handle) fail(dtype->range, "a ptr points to data; ptr(handle) is not supported");
    if (scope && stringValue(*scope, "storage_scope", "\"global\"") != "global")
      fail(scope->range, "a ptr parameter points to global memory; its storage_scope must be \"global\", not \"" +
                             scope->as<ast::StringLit>().value + "\"");
    auto var = makeVar(p.name, DType::Handle);
    Param param;
    param.name = p.name;
    param.kind = ParamKind::Pointer;
    param.var = var;
    param.elementType = dt;  // untyped: the widest type a view reads it as (viewDtype)
    param.range = p.range;
    kernel_->params.push_back(param);
    kernel_->signature.push_back({p.name, Kernel::SourceParam::Kind::Pointer, nullptr, var, dt});
    Value v;
    v.kind = Value::Pointer;
    v.var = var;
    v.dtype = dt;
    v.untyped = untyped;
    define(p.name, v, p.nameRange);
    return;
  }
  if (t.kind != ast::ExprKind::Call && t.kind != ast::ExprKind::Index)
    fail(t.range, "expected a parameter type: Tensor(...), StridedTensor(...), Buffer(...), ptr(dtype) or a scalar dtype");
  const ast::Expr& kindAt = t.kind == ast::ExprKind::Call ? *t.as<ast::Call>().callee : *t.as<ast::Index>().base;
  if (kind == "SharedBuffer" || kind == "FragmentBuffer" || kind == "LocalBuffer")
    fail(kindAt.range, kind + " is a macro parameter type; a kernel parameter lives in global memory (Tensor, StridedTensor, Buffer or ptr)");
  if (kind != "Tensor" && kind != "StridedTensor" && kind != "Buffer" && kind != "BaseTensor")
    failUnknown(kindAt.range, "unknown parameter type '" + kind + "'; expected Tensor, StridedTensor, Buffer, BaseTensor, ptr or a dtype",
                kind, vocabulary::namesOf({vocabulary::Kind::Type}));
  ProxySpec spec = readProxy(t);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = globalTensor(p.name, spec, p.nameRange, /*isParam=*/true, p.range);
  kernel_->signature.push_back({p.name, Kernel::SourceParam::Kind::Tensor, v.buffer, v.buffer->data, v.buffer->dtype});
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
  kernel_->signature.push_back({p.name, Kernel::SourceParam::Kind::Scalar, nullptr, param.var, DType::Int32});
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
  const std::string launch = w.context->kind == ast::ExprKind::Call ? calleeName(w.context->as<ast::Call>()) : "";
  // TileLang's ClusterKernel is Kernel with a required cluster_dims.
  if (launch != "Kernel" && launch != "ClusterKernel")
    failUnknown(w.context->range, "expected 'with Kernel(grid..., threads=N) as (bx, ...)'", launch,
                vocabulary::namesOf({vocabulary::Kind::Launch}));
  const auto& c = w.context->as<ast::Call>();
  checkKeywords(c, launch, {"threads", "cluster_dims"});
  if (launch == "ClusterKernel" && !keyword(c, "cluster_dims"))
    fail(c.range, "ClusterKernel needs cluster_dims= (the blocks of a cluster: an int or up to three extents)");
  // No extent is a grid of one block; threads= defaults to 128 (TileLang's default).
  if (c.args.size() > 3) fail(c.range, "Kernel takes 0 to 3 grid extents");
  for (int i = 0; i < 3; ++i) kernel_->grid[i] = intImm(1);
  for (size_t i = 0; i < c.args.size(); ++i) {
    ExprRef g = scalarExpr(*c.args[i]);
    if (!isInt(g->dtype)) fail(c.args[i]->range, "a grid extent must be an integer");
    if (auto k = asConstInt(g); k && (*k < 1 || *k > INT32_MAX))
      fail(c.args[i]->range, "a grid extent must be positive, not " + std::to_string(*k));
    kernel_->grid[i] = cast(DType::Int32, g);
  }
  kernel_->threads = kDefaultThreads;
  const ast::Expr* clusterAt = nullptr;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "threads") {
      auto t = constIntArg(*kw.value, "threads");
      if (t < 1 || t > 1024) fail(kw.value->range, "threads must be between 1 and 1024, not " + std::to_string(t));
      kernel_->threads = (int)t;
    } else if (kw.name == "cluster_dims") {
      if (std::string why = targetLacks(TargetFeature::Clusters, "cluster_dims"); !why.empty()) fail(kw.nameRange, why);
      // Blocks launched together as a cluster (cuLaunchKernelEx). Hopper runs up to
      // 8 blocks per cluster portably and 16 where the kernel opts in (the launcher
      // sets CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED for 9 to 16).
      // As TileLang normalizes it: an int n is (n, 1, 1); one to three extents,
      // the missing ones 1.
      auto items = tupleItems(*kw.value);
      if (items.empty() || items.size() > 3)
        fail(kw.value->range, "cluster_dims takes an int or one to three extents (CX, CY, CZ)");
      int64_t blocks = 1;
      for (int i = 0; i < 3; ++i) {
        if (size_t(i) >= items.size()) {
          kernel_->clusterDims[i] = 1;
          continue;
        }
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
