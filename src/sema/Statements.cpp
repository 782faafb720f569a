// Statements: assignments, allocations and tensor views, loops (Parallel, Pipelined,
// serial, range, vectorized, unroll), barriers and cp.async groups, macro calls (inlined).
#include "ir/Rewrite.h"
#include "sema/Analyzer.h"

#include <algorithm>
#include <set>

#include "ir/Limits.h"
#include "ir/StmtVisitor.h"

namespace tlc::sema {

StmtRef Analyzer::block(const ast::Block& b, bool newScope) {
  if (newScope) scopes_.emplace_back();
  auto seq = std::make_shared<SeqStmt>(b.range);
  for (const auto& s : b.stmts) {
    try {
      if (auto st = stmt(*s)) seq->stmts.push_back(st);
    } catch (Failed&) {
    }
  }
  if (newScope) scopes_.pop_back();
  return seq;
}

StmtRef Analyzer::stmt(const ast::Stmt& s) {
  if (s.kind != ast::StmtKind::Block) chargeExpansion(s.range, expansionWeight_);
  switch (s.kind) {
    case ast::StmtKind::Block: return block(s.as<ast::Block>(), s.as<ast::Block>().scoped);
    case ast::StmtKind::Assign: return assign(s.as<ast::Assign>());
    case ast::StmtKind::Expr: return exprStmt(s.as<ast::ExprStmt>());
    case ast::StmtKind::For: return forStmt(s.as<ast::For>());
    case ast::StmtKind::If: {
      const auto& i = s.as<ast::If>();
      ExprRef c = condition(*i.cond);
      auto ranges = std::move(loopRanges_);  // the condition may narrow them
      loopRanges_.clear();
      auto t = block(*i.thenBody);
      StmtRef e = i.elseBody ? block(*i.elseBody) : nullptr;
      loopRanges_ = std::move(ranges);
      return std::make_shared<IfStmt>(s.range, c, t, e);
    }
    case ast::StmtKind::With: return scopeBlock(s.as<ast::With>());
  }
  return nullptr;
}

// `with sblock("name") { ... }` inside the launch block (TileLang's T.sblock, which
// TVM's script prints around statements): a nested scope. Its names end with it,
// and an annotate_safe_value in it holds for its copies only (annotateSafeValue
// shadows the tensor there). Its reads() / writes() declarations are TVM's
// dependence annotations, which tlc derives itself: accepted, unused.
StmtRef Analyzer::scopeBlock(const ast::With& w) {
  if (w.context->kind != ast::ExprKind::Call || calleeName(w.context->as<ast::Call>()) != "sblock")
    fail(w.range, "'with' is only allowed once, at the top of a kernel (or as with sblock(\"name\") { ... }, a nested scope)");
  const auto& c = w.context->as<ast::Call>();
  checkKeywords(c, "sblock", {});
  if (c.args.size() > 1 || (c.args.size() == 1 && c.args[0]->kind != ast::ExprKind::StringLit))
    fail(c.range, "sblock takes its name, a string: with sblock(\"name\") { ... }");
  if (!w.bindings.empty()) fail(w.bindings.front().range, "sblock binds no names; drop the 'as ...'");
  if (inParallel_) fail(w.range, "a sblock cannot be inside a Parallel loop");
  ++sblockDepth_;
  StmtRef body;
  try {
    body = block(*w.body, true);
  } catch (Failed&) {
    --sblockDepth_;
    throw;
  }
  --sblockDepth_;
  return body;
}

ExprRef Analyzer::condition(const ast::Expr& e) {
  ExprRef c = scalarExpr(e);
  if (c->dtype == DType::Bool) return c;
  if (isInt(c->dtype)) return binary(BinOp::Ne, c, intImm(0, c->dtype));
  fail(e.range, std::string("a condition must be a bool or an integer, not ") + name(c->dtype));
}

BinOp Analyzer::binOpOf(ast::AssignOp op) {
  switch (op) {
    case ast::AssignOp::Add: return BinOp::Add;
    case ast::AssignOp::Sub: return BinOp::Sub;
    case ast::AssignOp::Mul: return BinOp::Mul;
    case ast::AssignOp::Div: return BinOp::Div;
    case ast::AssignOp::FloorDiv: return BinOp::FloorDiv;
    case ast::AssignOp::Mod: return BinOp::FloorMod;
    case ast::AssignOp::BitAnd: return BinOp::BitAnd;
    case ast::AssignOp::BitOr: return BinOp::BitOr;
    case ast::AssignOp::BitXor: return BinOp::BitXor;
    case ast::AssignOp::Shl: return BinOp::Shl;
    case ast::AssignOp::Shr: return BinOp::Shr;
    case ast::AssignOp::Set: break;
  }
  return BinOp::Add;
}

ExprRef Analyzer::arith(BinOp op, ExprRef a, ExprRef b, SourceRange opRange) {
  bool intOperands = isInt(a->dtype) && isInt(b->dtype);
  if (op == BinOp::Div && intOperands)
    fail(opRange, "'/' on integers is not allowed; use '//' for floor division");
  if (isStorageOnly(a->dtype) || isStorageOnly(b->dtype))
    fail(opRange, std::string("no arithmetic on ") + name(isStorageOnly(a->dtype) ? a->dtype : b->dtype) +
                      "; cast it to float32 first");
  if ((op == BinOp::BitAnd || op == BinOp::BitOr || op == BinOp::BitXor || op == BinOp::Shl || op == BinOp::Shr) &&
      (isFloat(a->dtype) || isFloat(b->dtype)))
    fail(opRange, std::string("operator '") + spelling(op) + "' needs integer operands");
  if (op == BinOp::Pow && intOperands) {
    auto e = asConstInt(b);
    if (!e || *e < 0 || *e > 64) fail(opRange, "'**' on integers needs a constant exponent between 0 and 64");
    ExprRef acc = intImm(1, a->dtype);
    for (int64_t i = 0; i < *e; ++i) acc = arith(BinOp::Mul, acc, a, opRange);
    return acc;
  }
  if ((op == BinOp::FloorDiv || op == BinOp::FloorMod) && intOperands) {
    if (auto d = asConstInt(b); d && *d == 0) fail(opRange, "division by zero");
  }
  // Python-like literal typing: an untyped float literal takes the other side's float type.
  if (isFloat(a->dtype) && b->kind == ExprKind::FloatImm && b->dtype == DType::Float32) b = cast(a->dtype, b);
  if (isFloat(b->dtype) && a->kind == ExprKind::FloatImm && a->dtype == DType::Float32) a = cast(b->dtype, a);
  if (isFloat(a->dtype) && isInt(b->dtype) && asConstInt(b)) b = cast(a->dtype, b);
  if (isFloat(b->dtype) && isInt(a->dtype) && asConstInt(a)) a = cast(b->dtype, a);
  if (intOperands) checkIntegerFold(op, a, b, opRange);
  ExprRef result = checkFits(binary(op, a, b), opRange);
  // The backend computes float64 x ** y as products (small integral constants) or
  // a square root (0.5); PTX has no float64 exp2/log2 for the general case.
  if (op == BinOp::Pow && result->kind == ExprKind::Binary && result->dtype == DType::Float64) {
    const ExprRef& b = result->as<BinaryNode>().b;
    std::optional<double> exponent;
    if (b->kind == ExprKind::FloatImm) exponent = b->as<FloatImm>().value;
    bool product = exponent && std::abs(*exponent) <= 8 && *exponent == std::trunc(*exponent);
    if (!product && !(exponent && *exponent == 0.5))
      fail(opRange, "not yet supported: float64 ** with an exponent other than a constant integer between -8 and 8 "
                    "or 0.5");
  }
  return result;
}

ExprRef Analyzer::convert(DType to, ExprRef v, SourceRange r) {
  checkConversion(v->dtype, to, r);
  return cast(to, std::move(v));
}

void Analyzer::checkConversion(DType from, DType to, SourceRange r) {
  auto isFloat8 = [](DType t) { return t == DType::Float8E4M3 || t == DType::Float8E5M2; };
  if (from == to || !(isFloat8(from) || isFloat8(to)) || target_.has(TargetFeature::Fp8Convert)) return;
  error(r, std::string("a cast from ") + name(from) + " to " + name(to) +
               " needs sm_89 or newer (its cvt instruction); this build targets " + target_.arch());
}

void Analyzer::checkIntegerFold(BinOp op, const ExprRef& a, const ExprRef& b, SourceRange opRange) {
  auto x = asConstInt(a), y = asConstInt(b);
  if ((op == BinOp::Shl || op == BinOp::Shr) && y && (*y < 0 || *y >= std::max(bits(a->dtype), 32)))
    fail(opRange, "shift amount " + std::to_string(*y) + " is out of range for " + name(a->dtype) + " (0 to " +
                      std::to_string(std::max(bits(a->dtype), 32) - 1) + ")");
  if (!x || !y) return;
  int64_t r = 0;
  bool overflow = false;
  switch (op) {
    case BinOp::Add: overflow = __builtin_add_overflow(*x, *y, &r); break;
    case BinOp::Sub: overflow = __builtin_sub_overflow(*x, *y, &r); break;
    case BinOp::Mul: overflow = __builtin_mul_overflow(*x, *y, &r); break;
    case BinOp::FloorDiv:
    case BinOp::FloorMod: overflow = *x == INT64_MIN && *y == -1; break;
    case BinOp::Shl: overflow = *x > (INT64_MAX >> *y) || *x < (INT64_MIN >> *y); break;
    default: break;
  }
  if (overflow) fail(opRange, "integer overflow in a constant expression");
}

ExprRef Analyzer::checkFits(ExprRef e, SourceRange r) {
  auto v = asConstInt(e);
  if (!v || !isInt(e->dtype)) return e;
  int width = bits(e->dtype);
  bool fits = width >= 64 ? (!isSigned(e->dtype) ? *v >= 0 : true)
                          : isSigned(e->dtype) ? *v >= -(int64_t(1) << (width - 1)) && *v < (int64_t(1) << (width - 1))
                                               : *v >= 0 && *v < (int64_t(1) << width);
  if (!fits) fail(r, "integer overflow in a constant expression: " + std::to_string(*v) + " does not fit " + name(e->dtype));
  return e;
}

StmtRef Analyzer::assign(const ast::Assign& a) {
  if (a.target->kind == ast::ExprKind::Name) {
    const std::string& n = a.target->as<ast::Name>().name;
    if (a.op == ast::AssignOp::Set && a.value->kind == ast::ExprKind::Call) {
      const auto& c = a.value->as<ast::Call>();
      std::string callee = calleeName(c);
      bool allocates = callee == "alloc_shared" || callee == "alloc_fragment" || callee == "alloc_local";
      bool views = callee == "make_tensor" || isFromPtr(callee);
      if (callee == "alloc_global") {
        try {
          return allocGlobal(n, a, c);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      if (callee == "view" || callee == "reshape") {
        try {
          return viewOf(n, a, c, callee);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      bool proxy = isProxyKind(callee);
      if (allocates || views || proxy) {
        try {
          if (proxy) return proxyView(n, a, c);
          return allocates ? allocation(n, a, c, callee) : makeTensor(n, a, c, callee);
        } catch (Failed&) {
          // Later uses of the name stay quiet instead of cascading.
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      if (callee == "tma_descriptor" || callee == "alloc_barrier" || callee == "alloc_cluster_barrier")
        requireTargetFor(c, callee);
      if (callee == "tma_descriptor") {
        try {
          return tmaDescriptor(n, a, c);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      // alloc_cluster_barrier: TileLang's barrier that other blocks of the cluster
      // arrive on; any alloc_barrier barrier may be (mbarrier_arrive(bar, cta_id)).
      if (callee == "alloc_barrier" || callee == "alloc_cluster_barrier") {
        try {
          return allocBarrier(n, a, c);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      if (callee == "Fragment") return layoutDecl(n, a, c);
      if (callee == "extract_tensormap_ptr") {
        // The pointer keeps its descriptor: tma_load(p, ...) uses it, and in a scalar
        // expression p is the map's address.
        Value p;
        try {
          p = tensorMapPointer(c);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
        p.decl = a.target->range;
        define(n, p, a.target->range);
        return nullptr;
      }
      if (callee == "alloc_var") {
        try {
          return allocVar(n, a, c);
        } catch (Failed&) {
          if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
          throw;
        }
      }
      if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
      if (isAtomicName(callee)) return atomicAssign(n, a, c, callee);
    }
    const Value* existing = lookup(n);
    if (existing && existing->kind == Value::None) throw Failed{};  // its declaration already failed
    if (!existing) {
      if (a.op != ast::AssignOp::Set) failUnknown(a.target->range, "use of undeclared name '" + n + "'", n, namesInScope());
      ExprRef v;
      try {
        v = scalarExpr(*a.value);
      } catch (Failed&) {
        // Declared, but unusable: later uses stay quiet instead of cascading.
        define(n, Value{}, a.target->range);
        throw;
      }
      if (v->dtype == DType::Handle) fail(a.value->range, "a pointer cannot be stored in a local");
      auto var = makeVar(uniqueName(n), v->dtype);
      Value val;
      val.kind = Value::Mutable;
      val.var = var;
      val.expr = var;
      define(n, val, a.target->range);
      return std::make_shared<LetStmt>(a.range, var, v);
    }
    if (existing->kind != Value::Mutable) {
      error(a.target->range, "cannot assign to '" + n + "': it is " + describe(*existing));
      noteDecl(n, existing->decl);
      throw Failed{};
    }
    ExprRef v = scalarExpr(*a.value);
    if (a.op != ast::AssignOp::Set) v = arith(binOpOf(a.op), existing->var, v, a.opRange);
    return std::make_shared<AssignStmt>(a.range, existing->var, convert(existing->var->dtype, v, a.range));
  }
  if (a.target->kind == ast::ExprKind::Index) {
    const auto& ix = a.target->as<ast::Index>();
    if (const Value* cell = varCell(ix)) {
      ExprRef v = scalarExpr(*a.value);
      if (a.op != ast::AssignOp::Set) v = arith(binOpOf(a.op), cell->var, v, a.opRange);
      return std::make_shared<AssignStmt>(a.range, cell->var, convert(cell->var->dtype, v, a.range));
    }
    BufferRef buf = bufferOf(*ix.base);
    if (buf->pointerTable) checkStoreScope(buf, a.target->range);
    auto indices = elementIndices(ix, buf);
    if (a.op == ast::AssignOp::Set && a.value->kind == ast::ExprKind::Call &&
        isAtomicName(calleeName(a.value->as<ast::Call>()))) {
      // old_vals[i, j] = atomic_add(B[i, j], v, return_prev=True): the old value
      // through a fresh local, then stored.
      VarRef old;
      StmtRef update = atomicOp(a.value->as<ast::Call>(), calleeName(a.value->as<ast::Call>()), &old);
      checkStoreScope(buf, a.target->range);
      auto seq = std::make_shared<SeqStmt>(a.range, std::vector<StmtRef>{update});
      seq->stmts.push_back(std::make_shared<StoreStmt>(a.range, buf, indices, convert(buf->dtype, old, a.range)));
      return seq;
    }
    ExprRef v = scalarExpr(*a.value);
    if (a.op != ast::AssignOp::Set) {
      auto load = std::make_shared<LoadNode>(buf, indices, buf->dtype, 1);
      ExprRef current = load;
      if (isStorageOnly(buf->dtype)) fail(a.opRange, std::string("no arithmetic on ") + name(buf->dtype));
      v = arith(binOpOf(a.op), current, v, a.opRange);
    }
    if (v->dtype == DType::Handle) fail(a.value->range, "a pointer cannot be stored in a buffer");
    checkStoreScope(buf, a.target->range);
    return std::make_shared<StoreStmt>(a.range, buf, indices, convert(buf->dtype, v, a.range));
  }
  fail(a.target->range, "cannot assign to this expression; assign to a name or to an element A[i, j]");
}

// old = atomic_add(dst, v, return_prev=True): a new local, or an existing one
// assigned (converted) the old value.
StmtRef Analyzer::atomicAssign(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
  const Value* existing = lookup(n);
  if (existing && existing->kind == Value::None) throw Failed{};
  if (existing && existing->kind != Value::Mutable) {
    error(a.target->range, "cannot assign to '" + n + "': it is " + describe(*existing));
    noteDecl(n, existing->decl);
    throw Failed{};
  }
  VarRef old;
  StmtRef st;
  try {
    st = atomicOp(c, callee, &old);
  } catch (Failed&) {
    if (!existing) define(n, Value{}, a.target->range);
    throw;
  }
  if (!existing) {
    Value val;
    val.kind = Value::Mutable;
    val.var = old;
    val.expr = old;
    define(n, val, a.target->range);
    return st;
  }
  auto seq = std::make_shared<SeqStmt>(a.range, std::vector<StmtRef>{st});
  seq->stmts.push_back(std::make_shared<AssignStmt>(a.range, existing->var, convert(existing->var->dtype, old, a.range)));
  return seq;
}

// An element of a table of pointers is an address: make_tensor views it, nothing
// else reads it (no arithmetic on addresses), and the kernel does not write it.
void Analyzer::failPointerElement(const ast::Index& ix, const BufferRef& buf) {
  error(ix.range, "an element of '" + buf->name + "' is a device address (a table of pointers): view it with make_tensor(" +
                      buf->name + "[i], shape, dtype); it is no number to compute with");
  noteDecl(buf->name, buf->declRange);
  throw Failed{};
}

void Analyzer::failPointerTable(SourceRange r, const BufferRef& buf) {
  error(r, "'" + buf->name + "' is a table of pointers: a kernel only views its elements, make_tensor(" + buf->name +
               "[i], shape, dtype); it neither copies nor fills the table");
  noteDecl(buf->name, buf->declRange);
  throw Failed{};
}

void Analyzer::checkStoreScope(const BufferRef& buf, SourceRange r) {
  if (buf->pointerTable) {
    error(r, "'" + buf->name + "' is a table of pointers, read-only in the kernel (the host fills it)");
    noteDecl(buf->name, buf->declRange);
    throw Failed{};
  }
  if (buf->scope == MemScope::Fragment && !inParallel_)
    fail(r, "element '" + buf->name + "[...]' of a fragment can only be written inside a Parallel loop; use fill() or copy() outside one");
}

std::string Analyzer::describe(const Value& v) {
  switch (v.kind) {
    case Value::ConstInt: case Value::ConstFloat: return "a const";
    case Value::DTypeName: return "a dtype";
    case Value::Scalar: return "a parameter or loop variable";
    case Value::Mutable: return "a local";
    case Value::BufferV: return "a buffer";
    case Value::Pointer: return "a pointer";
    case Value::Layout: return "a Fragment layout";
    case Value::Descriptor: return "a TMA descriptor";
    case Value::None: break;
  }
  return "not a value";
}

std::vector<ExprRef> Analyzer::constShape(const ast::Expr& e) {
  std::vector<ExprRef> shape;
  for (const auto* s : tupleItems(e)) {
    ExprRef v = scalarExpr(*s);
    auto c = asConstInt(v);
    if (!c) fail(s->range, "the shape of an allocation must be a compile-time constant");
    if (*c <= 0) fail(s->range, "shape entries must be positive, not " + std::to_string(*c));
    if (*c > INT32_MAX) fail(s->range, "a shape entry must fit in int32, not " + std::to_string(*c));
    shape.push_back(intImm(*c));
  }
  if (shape.empty()) fail(e.range, "an allocation needs at least one dimension");
  return shape;
}

StmtRef Analyzer::allocation(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
  // TileLang's signature: alloc_shared(shape, dtype, scope="shared.dyn"), alloc_fragment(
  // shape, dtype, scope="local.fragment"), alloc_local(shape, dtype, scope="local"); each
  // argument positional or by keyword.
  checkKeywords(c, callee, {"shape", "dtype", "scope"});
  auto argument = [&](size_t position, const char* name) -> const ast::Expr* {
    const ast::Expr* byName = keyword(c, name);
    if (c.args.size() > position) {
      if (byName) fail(byName->range, std::string(name) + " is given twice");
      return c.args[position].get();
    }
    return byName;
  };
  if (c.args.size() > 3) fail(c.args[3]->range, callee + " takes (shape, dtype, scope=...)");
  const ast::Expr* shapeArg = argument(0, "shape");
  const ast::Expr* dtypeExpr = argument(1, "dtype");
  const ast::Expr* scope = argument(2, "scope");
  if (!shapeArg || !dtypeExpr) fail(c.range, callee + " takes (shape, dtype)");
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->shape = constShape(*shapeArg);
  buf->strides = rowMajorStrides(buf->shape);
  buf->dtype = dtypeArg(*dtypeExpr, callee == "alloc_shared");
  buf->scope = callee == "alloc_shared" ? MemScope::Shared : callee == "alloc_fragment" ? MemScope::Fragment : MemScope::Local;
  buf->declRange = a.target->range;
  if (scope) {
    // The scopes each allocator takes: its own (TileLang's names), nothing else.
    const std::vector<std::string> valid = callee == "alloc_shared"     ? std::vector<std::string>{"shared.dyn", "shared"}
                                           : callee == "alloc_fragment" ? std::vector<std::string>{"local.fragment"}
                                                                        : std::vector<std::string>{"local"};
    std::string list;
    for (const auto& v : valid) list += (list.empty() ? "\"" : ", \"") + v + "\"";
    std::string s = stringValue(*scope, "scope", list);
    if (std::find(valid.begin(), valid.end(), s) == valid.end())
      fail(scope->range, "invalid scope \"" + s + "\" for " + callee + "; valid: " + list);
  }
  if (buf->dtype == DType::Float4E2M1 && !buf->shape.empty())
    if (int64_t last = *asConstInt(buf->shape.back()); last % 2 != 0)
      fail(shapeArg->range, "a float4_e2m1fn tile's last axis must have an even extent, not " + std::to_string(last) +
                                 " (fp4 is packed two to a byte; each row is whole bytes)");
  if (buf->dtype == DType::Handle) fail(dtypeExpr->range, "a buffer cannot hold pointers");
  int64_t numel = 1;
  for (const auto& s : buf->shape) {
    if (__builtin_mul_overflow(numel, *asConstInt(s), &numel) || numel > limits::ElementsPerRegion)
      fail(shapeArg->range, "the tile '" + n + "' is too large");
  }
  if (const int64_t limit = target_.maxSharedBytesPerBlock();
      buf->scope == MemScope::Shared && numel * bits(buf->dtype) / 8 > limit)
    fail(c.range, "shared tile '" + n + "' needs " + std::to_string(numel * bits(buf->dtype) / 8) +
                      " bytes; a block has at most " + std::to_string(limit) + " bytes of shared memory on " +
                      target_.arch());
  if (buf->scope == MemScope::Local && numel > 4096)
    fail(c.range, "local buffer '" + n + "' has " + std::to_string(numel) + " elements; at most 4096 fit a thread");
  // A fragment is spread over the block's threads; each thread's share lives in registers.
  if (buf->scope == MemScope::Fragment && (numel + threads_ - 1) / threads_ > 4096)
    fail(c.range, "fragment '" + n + "' has " + std::to_string(numel) + " elements, " +
                      std::to_string((numel + threads_ - 1) / threads_) + " per thread of " + std::to_string(threads_) +
                      "; at most 4096 fit a thread");
  kernel_->allocations.push_back(buf);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return nullptr;
}

StmtRef Analyzer::allocVar(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  checkKeywords(c, "alloc_var", {"init", "scope"});
  const std::string usage = "alloc_var takes (dtype[, init][, scope]): alloc_var(int32), alloc_var(float32, 1.0), "
                            "alloc_var(int32, init=0)";
  if (c.args.empty() || c.args.size() > 3) fail(c.range, usage);
  DType dt = dtypeArg(*c.args[0]);
  // TileLang's positional forms: (dtype, scope-string), (dtype, init), (dtype, init, scope).
  const ast::Expr* init = keyword(c, "init");
  const ast::Expr* scope = keyword(c, "scope");
  for (size_t i = 1; i < c.args.size(); ++i) {
    const ast::Expr* arg = c.args[i].get();
    bool isScope = i == 2 || (c.args.size() == 2 && arg->kind == ast::ExprKind::StringLit);
    const ast::Expr*& slot = isScope ? scope : init;
    if (slot) fail(arg->range, std::string("alloc_var's ") + (isScope ? "scope" : "init") + " is given twice");
    slot = arg;
  }
  if (scope) {
    std::string s = stringValue(*scope, "scope", "\"local.var\"");
    if (s != "local.var" && s != "local")
      fail(scope->range, "invalid scope \"" + s + "\" for alloc_var; valid: \"local.var\" (a variable lives in a register)");
  }
  if (dt == DType::Handle) fail(c.args[0]->range, "a variable cannot hold a pointer");
  ExprRef first;
  if (init) {
    ExprRef v = scalarExpr(*init);
    if (v->dtype == DType::Handle) fail(init->range, "a pointer cannot be stored in a local");
    first = convert(dt, v, init->range);
  } else {
    // TileLang leaves an uninitialized variable's value unspecified; here it is 0.
    first = isFloat(dt) ? cast(dt, floatImm(0.0)) : cast(dt, intImm(0));
  }
  auto var = makeVar(uniqueName(n), dt);
  Value val;
  val.kind = Value::Mutable;
  val.var = var;
  val.expr = var;
  val.varCell = true;
  define(n, val, a.target->range);
  return std::make_shared<LetStmt>(a.range, var, first);
}

const Value* Analyzer::varCell(const ast::Index& ix) {
  if (ix.base->kind != ast::ExprKind::Name) return nullptr;
  const std::string& n = ix.base->as<ast::Name>().name;
  const Value* v = lookup(n);
  if (!v || v->kind != Value::Mutable || !v->varCell) return nullptr;
  const ast::IndexItem* item = ix.items.size() == 1 && !ix.items[0].isSlice ? &ix.items[0] : nullptr;
  std::optional<int64_t> index;
  if (item) index = asConstInt(scalarExpr(*item->value));
  if (!index || *index != 0) {
    error(ix.range, "'" + n + "' is a variable (alloc_var): its one element is " + n + "[0], or just " + n);
    noteDecl(n, v->decl);
    throw Failed{};
  }
  return v;
}

StmtRef Analyzer::makeTensor(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
  static const std::vector<std::string> names = {"ptr", "shape", "dtype", "strides"};
  if (callee == "SharedBuffer.from_ptr" || callee == "FragmentBuffer.from_ptr" || callee == "LocalBuffer.from_ptr")
    fail(c.callee->range, "a ptr points to global memory, so " + callee + " cannot view it; write Tensor.from_ptr");
  checkKeywords(c, callee, names);
  const std::string usage = callee + " takes (ptr, shape[, dtype[, strides]])";
  if (c.args.size() > 4) fail(c.args[4]->range, usage);
  const ast::Expr* args[4] = {nullptr, nullptr, nullptr, nullptr};
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs) {
    size_t i = std::find(names.begin(), names.end(), kw.name) - names.begin();
    if (args[i]) fail(kw.nameRange, "argument '" + kw.name + "' of " + callee + " is given twice");
    args[i] = kw.value.get();
  }
  if (!args[0] || !args[1]) fail(c.range, usage);
  if (callee == "make_tensor")
    if (const BufferRef table = pointerTableOf(*args[0])) return makeTensorOfTable(n, a, args, table);
  const Value* p = args[0]->kind == ast::ExprKind::Name ? lookup(args[0]->as<ast::Name>().name) : nullptr;
  if (p && p->kind == Value::None) throw Failed{};  // its declaration already failed
  if (!p || p->kind != Value::Pointer) {
    if (p) {
      error(args[0]->range, callee + " needs a ptr(...) parameter as its first argument; '" +
                                       args[0]->as<ast::Name>().name + "' is " + describe(*p));
      noteDecl(args[0]->as<ast::Name>().name, p->decl);
      throw Failed{};
    }
    fail(args[0]->range, callee + " needs a ptr(...) parameter" +
                             std::string(callee == "make_tensor" ? " or an element table[i] of a table of pointers" : "") +
                             " as its first argument");
  }
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->scope = MemScope::Global;
  buf->data = p->var;
  buf->declRange = a.target->range;
  buf->dtype = viewDtype(*p, args[0]->as<ast::Name>().name, args[2]);
  makeTensorShape(*buf, callee, args);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return nullptr;
}

// The table `table[i]` names, if `e` is an element of a table of pointers.
BufferRef Analyzer::pointerTableOf(const ast::Expr& e) {
  if (e.kind != ast::ExprKind::Index) return nullptr;
  const auto& ix = e.as<ast::Index>();
  if (ix.base->kind != ast::ExprKind::Name) return nullptr;
  const Value* v = lookup(ix.base->as<ast::Name>().name);
  if (!v || v->kind != Value::BufferV || !v->buffer->pointerTable) return nullptr;
  return v->buffer;
}

// make_tensor(table[i], shape, dtype): TileLang's view of an address loaded from a
// table of pointers. The address becomes a local (a LetStmt of a handle) that the
// view's `data` names; each thread that runs the statement loads it. The load of the
// table element is an ordinary global access (bounds-checked like any); what the
// address points to, the launcher cannot check: the view's shape is the user's word.
StmtRef Analyzer::makeTensorOfTable(const std::string& n, const ast::Assign& a, const ast::Expr* const* args,
                                    const BufferRef& table) {
  const auto& ix = args[0]->as<ast::Index>();
  auto indices = elementIndices(ix, table);
  auto load = std::make_shared<LoadNode>(table, indices, table->dtype, 1);
  VarRef address = makeVar(n + "_data", DType::Handle);
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->scope = MemScope::Global;
  buf->data = address;
  buf->loadedBase = true;
  buf->declRange = a.target->range;
  // An element of the table has no declared type: the view chooses (float32 by default).
  Value untyped;
  untyped.kind = Value::Pointer;
  untyped.untyped = true;
  buf->dtype = viewDtype(untyped, table->name, args[2]);
  buf->alignBytes = std::max(1, bits(buf->dtype) / 8);  // nothing known beyond the element
  makeTensorShape(*buf, "make_tensor", args);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return std::make_shared<LetStmt>(a.range, address, cast(DType::Handle, load));
}

// make_tensor's shape and strides (args[1], args[3]) into `buf`.
void Analyzer::makeTensorShape(Buffer& buf, const std::string& callee, const ast::Expr* const* args) {
  auto shape = tupleItems(*args[1]);
  if (shape.empty()) fail(args[1]->range, "a tensor needs at least one dimension");
  for (const auto* s : shape) {
    ExprRef e = scalarExpr(*s);
    if (!isInt(e->dtype)) fail(s->range, "a shape entry must be an integer");
    if (auto k = asConstInt(e); k && (*k <= 0 || *k > INT32_MAX))
      fail(s->range, "a shape entry must be positive and fit in int32, not " + std::to_string(*k));
    buf.shape.push_back(cast(DType::Int32, e));
  }
  if (const ast::Expr* strides = args[3]) {
    auto items = tupleItems(*strides);
    if (items.size() != buf.shape.size())
      fail(strides->range, callee + " has " + std::to_string(buf.shape.size()) + " shape entries but " +
                               std::to_string(items.size()) + " strides");
    for (const auto* s : items) {
      ExprRef e = scalarExpr(*s);
      if (!isInt(e->dtype)) fail(s->range, "a stride must be an integer");
      if (auto k = asConstInt(e); k && (*k < 0 || *k > INT32_MAX))
        fail(s->range, "a stride must not be negative and must fit in int32, not " + std::to_string(*k));
      buf.strides.push_back(cast(DType::Int32, e));
    }
  } else {
    buf.strides = rowMajorStrides(buf.shape);
  }
}

// TileLang allocates alloc_global's buffer in its runtime (cudaMalloc); tlc's header
// allocates nothing (every function only returns a CUresult), so the buffer is a
// parameter: the launch function takes it as a CUdeviceptr named after the variable,
// in the caller's memory, of the shape's elements times the dtype's bytes. Inside the
// kernel it is a global tensor like any other (guarded, aligned by the launcher's
// checks where a variant assumes it).
StmtRef Analyzer::allocGlobal(const std::string& n, const ast::Assign& a, const ast::Call& c) {
  static const std::vector<std::string> names = {"shape", "dtype", "scope"};
  checkKeywords(c, "alloc_global", names);
  const ast::Expr* args[3] = {nullptr, nullptr, nullptr};
  if (c.args.size() > 3) fail(c.args[3]->range, "alloc_global takes (shape, dtype[, scope])");
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs) {
    size_t i = std::find(names.begin(), names.end(), kw.name) - names.begin();
    if (args[i]) fail(kw.nameRange, "argument '" + kw.name + "' of alloc_global is given twice");
    args[i] = kw.value.get();
  }
  if (!args[0] || !args[1]) fail(c.range, "alloc_global takes (shape, dtype[, scope])");
  if (args[2] && stringValue(*args[2], "scope", "\"global\"") != "global")
    fail(args[2]->range, "alloc_global allocates global memory; its scope must be \"global\"");
  for (const auto& p : kernel_->params)
    if (p.name == n) fail(a.target->range, "alloc_global '" + n + "' names a parameter of the kernel already");
  ProxySpec spec;
  spec.kind = "Tensor";
  spec.kindRange = c.callee->range;
  spec.range = c.range;
  spec.hasShape = true;
  spec.shape = tupleItems(*args[0]);
  spec.shapeRange = args[0]->range;
  spec.args["dtype"] = args[1];
  if (spec.shape.empty()) fail(args[0]->range, "alloc_global needs at least one dimension");
  Value v;
  v.kind = Value::BufferV;
  v.buffer = globalTensor(n, spec, a.target->range, /*isParam=*/true, a.range);
  define(n, v, a.target->range);
  // The caller passes the workspace: it is a tensor of the kernel's signature
  // (--emit=meta, the Python package), after the declared parameters.
  kernel_->signature.push_back({n, Kernel::SourceParam::Kind::Tensor, v.buffer, v.buffer->data, v.buffer->dtype});
  return nullptr;
}

// A size as a constant factor and the multiset of its other factors (printed), so
// that (M, N) and (N, M) agree and (N // 32, 32) and (N,) do not (nothing proves
// N % 32 == 0). False when the constant factor overflows int64 (fuzz_backend found
// `view(B, (M * 9223372036854775807,))`: the product was signed overflow).
static bool sizeFactors(const ExprRef& e, int64_t& constant, std::multiset<std::string>& symbols) {
  if (auto k = asConstInt(e)) return !__builtin_mul_overflow(constant, *k, &constant);
  if (e->kind == ExprKind::Cast && isInt(e->dtype)) return sizeFactors(e->as<CastNode>().a, constant, symbols);
  if (e->kind == ExprKind::Binary && e->as<BinaryNode>().op == BinOp::Mul)
    return sizeFactors(e->as<BinaryNode>().a, constant, symbols) &&
           sizeFactors(e->as<BinaryNode>().b, constant, symbols);
  symbols.insert(toString(e));
  return true;
}

StmtRef Analyzer::viewOf(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
  BufferRef buf = makeView(c, callee, n, a.target->range);
  Value v;
  v.kind = Value::BufferV;
  v.buffer = buf;
  define(n, v, a.target->range);
  return nullptr;
}

// How two names of one tile's bytes relate, for messages: "'v' is a view of 's'",
// or both views of a third.
std::string Analyzer::aliasText(const BufferRef& a, const BufferRef& b) {
  if (b->viewOf == a) return "'" + b->name + "' is a view of '" + a->name + "'";
  if (a->viewOf == b) return "'" + a->name + "' is a view of '" + b->name + "'";
  return "both are views of '" + storageOf(a.get())->name + "'";
}

// A view made before its tile's layout was annotated read the tile row-major when
// it was made (its index map is fixed then): a later layout is refused, and a view
// takes its tile's layout rather than one of its own.
void Analyzer::rejectLayoutOfAliased(const BufferRef& tile, SourceRange at) {
  if (tile->viewOf)
    failAbout(at, "a layout for '" + tile->name + "', a view of '" + tile->viewOf->name +
                      "': a view reads its tile's elements through the tile's layout; annotate '" +
                      tile->viewOf->name + "'",
              tile);
  for (const auto& b : kernel_->allocations)
    if (b->viewOf == tile)
      failAbout(at, "not yet supported: a layout for '" + tile->name + "' after its view '" + b->name +
                        "' (annotate the layout before the view: the view reads the tile through it)",
                b);
}

// A view written where a buffer is expected (TileLang's `T.cumsum(T.view(s, ...))`):
// named after its tile, `s_view` (numbered when the kernel has one already).
BufferRef Analyzer::inlineView(const ast::Call& c, const std::string& callee) {
  const ast::Expr* src = c.args.empty() ? keyword(c, "src") : c.args[0].get();
  std::string base = src && src->kind == ast::ExprKind::Name ? src->as<ast::Name>().name : "tensor";
  std::string n = base + "_" + callee;
  auto taken = [&](const std::string& name) {
    if (lookup(name)) return true;
    for (const auto& b : kernel_->allocations)
      if (b->name == name) return true;
    return false;
  };
  for (int k = 1; taken(n); ++k) n = base + "_" + callee + std::to_string(k);
  BufferRef buf = makeView(c, callee, n, c.range);
  usedBuffers_.insert(buf);  // made to be used where it stands
  return buf;
}

BufferRef Analyzer::makeView(const ast::Call& c, const std::string& callee, const std::string& n, SourceRange declRange) {
  const bool isView = callee == "view";
  static const std::vector<std::string> viewNames = {"src", "shape", "dtype"};
  static const std::vector<std::string> reshapeNames = {"src", "shape"};
  const auto& names = isView ? viewNames : reshapeNames;
  checkKeywords(c, callee, names);
  const std::string usage = isView ? "view takes (buffer[, shape][, dtype])" : "reshape takes (buffer, shape)";
  if (c.args.size() > names.size()) fail(c.args[names.size()]->range, usage);
  const ast::Expr* args[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs) {
    size_t i = std::find(names.begin(), names.end(), kw.name) - names.begin();
    if (args[i]) fail(kw.nameRange, "argument '" + kw.name + "' of " + callee + " is given twice");
    args[i] = kw.value.get();
  }
  // TileLang's view(src, shape=None, dtype=None): no shape is the source's shape.
  if (!args[0] || (!args[1] && !isView)) fail(c.range, usage);
  const Value* src = args[0]->kind == ast::ExprKind::Name ? lookup(args[0]->as<ast::Name>().name) : nullptr;
  if (src && src->kind == Value::None) throw Failed{};
  if (!src || src->kind != Value::BufferV) fail(args[0]->range, callee + " needs a buffer as its first argument");
  BufferRef fromRef = src->buffer;
  const Buffer& from = *fromRef;
  // A view of a shared tile, a fragment or a local buffer is another name for its
  // storage, listed in the allocations (a fragment's view: the same registers,
  // LayoutFragments; a local's: the same array, FlattenBufferAccess).
  const bool fragment = from.scope == MemScope::Fragment;
  const bool local = from.scope == MemScope::Local;
  const bool tile = from.scope == MemScope::Shared || fragment || local;
  if (from.isBarrier)
    failAbout(args[0]->range, "'" + from.name + "' is an array of mbarriers, not a tile: it has no view", fromRef);
  // Only a contiguous row-major tensor has its bytes in the order a new shape reads
  // them (a tile with an annotated layout, padded too, is read through it: below).
  const bool throughLayout = from.scope == MemScope::Shared && from.sharedLayout.annotated;
  auto rowMajor = rowMajorStrides(from.shape);
  for (size_t i = 0; i < from.strides.size() && !throughLayout; ++i)
    if (toString(from.strides[i]) != toString(rowMajor[i]))
      fail(args[0]->range, callee + " of '" + from.name + "', whose strides are not row-major (stride " +
                               toString(from.strides[i]) + " of axis " + std::to_string(i) +
                               "): the new shape would not read its bytes in order");
  auto buf = std::make_shared<Buffer>();
  buf->name = n;
  buf->scope = from.scope;
  buf->data = from.data;
  buf->declRange = declRange;
  buf->dtype = from.dtype;
  if (isView && args[2]) buf->dtype = dtypeArg(*args[2]);
  // Registers hold elements, not bytes in memory: a fragment's or a local's view keeps them.
  if ((fragment || local) && buf->dtype != from.dtype)
    failAbout(args[2]->range, "not yet supported: a view of " + std::string(fragment ? "fragment" : "local buffer") +
                                  " '" + from.name + "' as " + name(buf->dtype) + " (its view keeps its dtype, " +
                                  name(from.dtype) + ")",
              fromRef);
  // Sub-byte elements (float4_e2m1fn, two to a byte): views of global tensors (the
  // packed bytes, e.g. an fp4 tensor as uint8 and back), whose rows stay whole bytes.
  const bool subByte = bits(buf->dtype) % 8 != 0 || bits(from.dtype) % 8 != 0;
  if (subByte && from.scope != MemScope::Global)
    fail(args[isView && args[2] ? 2 : 0]->range, "not yet supported: " + callee + " of sub-byte elements of a " +
                                                     name(from.scope) + " buffer (views of global tensors take them)");
  if (from.elemOffset) {
    if (buf->dtype != from.dtype)
      fail(args[2]->range, callee + " of '" + from.name + "' to another dtype: it has an elem_offset in " +
                               name(from.dtype) + " elements");
    buf->elemOffset = from.elemOffset;
  }
  buf->safeValue = from.safeValue;
  auto shape = args[1] ? tupleItems(*args[1]) : std::vector<const ast::Expr*>{};
  if (args[1] && shape.empty()) fail(args[1]->range, "a tensor needs at least one dimension");
  if (!args[1]) buf->shape = from.shape;
  for (const auto* s : shape) {
    ExprRef e = scalarExpr(*s);
    if (!isInt(e->dtype)) fail(s->range, "a shape entry must be an integer");
    auto k = asConstInt(e);
    if (k && (*k <= 0 || *k > INT32_MAX))
      fail(s->range, "a shape entry must be positive and fit in int32, not " + std::to_string(*k));
    if (tile && !k)
      fail(s->range, "a view of " + std::string(fragment ? "fragment" : local ? "local buffer" : "shared tile") + " '" +
                         from.name + "' has a constant shape, as the " + (fragment ? "fragment" : local ? "buffer" : "tile") +
                         " has");
    buf->shape.push_back(cast(DType::Int32, e));
  }
  buf->strides = rowMajorStrides(buf->shape);
  if (bits(buf->dtype) % 8 != 0) {
    auto last = asConstInt(buf->shape.back());
    if (!last || *last % 2 != 0)
      fail((args[1] ? args[1] : args[2])->range,
           "a " + std::string(name(buf->dtype)) + " view's last axis holds whole bytes: its extent must be an even "
           "constant, not " + toString(buf->shape.back()));
  }
  // The same number of bytes, provably: constants that agree, or the same symbolic
  // factors (a launch could otherwise make the view reach past the tensor).
  // (Counted in bits: float4_e2m1fn elements are half a byte.)
  int64_t oldConst = bits(from.dtype), newConst = bits(buf->dtype);
  std::multiset<std::string> oldSyms, newSyms;
  bool counted = true;
  for (const auto& d : from.shape) counted = sizeFactors(d, oldConst, oldSyms) && counted;
  for (const auto& d : buf->shape) counted = sizeFactors(d, newConst, newSyms) && counted;
  if (!counted)
    fail((args[1] ? args[1] : args[2])->range,
         callee + " of '" + from.name + "': the constant factors of a size in bits overflow a 64-bit integer");
  auto bytesText = [](int64_t bitCount, const std::multiset<std::string>& syms) {
    std::string t = std::to_string(bitCount / 8) + (bitCount % 8 ? ".5" : "");
    for (const auto& s : syms) t += " * " + s;
    return t + " bytes";
  };
  if (oldConst != newConst || oldSyms != newSyms)
    fail((args[1] ? args[1] : args[2])->range, callee + " of '" + from.name + "' to " + bytesText(newConst, newSyms) +
                                                   ", but it holds " +
                             bytesText(oldConst, oldSyms) +
                             (oldSyms.empty() && newSyms.empty() ? "" : " (symbolic sizes must have the same factors)"));
  if (throughLayout) {
    if (buf->dtype != from.dtype)
      failAbout(args[2]->range, "not yet supported: a view of tile '" + from.name + "' as " + name(buf->dtype) +
                                    ": its layout (" + from.sharedLayout.why + ") places " + name(from.dtype) +
                                    " elements, and a view to another dtype reads bytes",
                fromRef);
    buf->sharedLayout = viewIndexMap(*buf, from);
  }
  if (tile) {
    // Another name for the tile's bytes (or the fragment's registers): listed after
    // the buffer it views (a view of a view views that buffer), with no storage of
    // its own.
    buf->viewOf = from.viewOf ? from.viewOf : fromRef;
    kernel_->allocations.push_back(buf);
  }
  return buf;
}

// TileLang's manual pipeline schedule, Pipelined(order=[...], stage=[...], group=[[...]],
// sync=[[...]]): checked (lists of constant integers; order a permutation of 0..n-1,
// stage one non-negative stage per entry of order; group and sync lists of index
// lists) and then left to tlc's own schedule, which gives the same results (the
// iterations still run in order). Without num_stages, the depth is max(stage) + 1,
// as TileLang infers it.
void Analyzer::pipelineSchedule(const ast::Call& c, bool stagesGiven, int& stages, SourceRange& stagesAt) {
  auto intList = [&](const ast::Expr& e, const std::string& what) {
    if (e.kind != ast::ExprKind::Tuple) fail(e.range, what + " takes a list of integers, e.g. [0, 1]");
    std::vector<int64_t> out;
    for (const auto& x : e.as<ast::Tuple>().elements) out.push_back(constIntArg(*x, "an entry of " + what));
    return out;
  };
  std::vector<int64_t> order, stage;
  const ast::Expr* orderAt = nullptr;
  const ast::Expr* stageAt = nullptr;
  for (const auto& kw : c.kwargs) {
    if (kw.name == "order") {
      order = intList(*kw.value, "order");
      orderAt = kw.value.get();
      std::vector<int64_t> sorted = order;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < sorted.size(); ++i)
        if (sorted[i] != int64_t(i))
          fail(kw.value->range, "order must list each of 0 to " + std::to_string(int64_t(order.size()) - 1) +
                                    " once (the emission order of the loop's scheduled statements)");
    } else if (kw.name == "stage") {
      stage = intList(*kw.value, "stage");
      stageAt = kw.value.get();
      for (size_t i = 0; i < stage.size(); ++i)
        if (stage[i] < 0 || stage[i] > 15)
          fail(kw.value->as<ast::Tuple>().elements[i]->range, "a pipeline stage is 0 to 15");
    } else if (kw.name == "group" || kw.name == "sync") {
      if (kw.value->kind != ast::ExprKind::Tuple)
        fail(kw.value->range, kw.name + " takes a list of lists of statement indices, e.g. [[0, 1], [2]]");
      for (const auto& g : kw.value->as<ast::Tuple>().elements)
        for (int64_t i : intList(*g, "an entry of " + kw.name))
          if (i < 0) fail(g->range, kw.name + " lists statement indices (0 or more)");
    }
  }
  if (orderAt && stageAt && order.size() != stage.size())
    fail(stageAt->range, "stage has " + std::to_string(stage.size()) + " entries and order " +
                             std::to_string(order.size()) + "; they describe the same statements");
  if ((orderAt != nullptr) != (stageAt != nullptr))
    fail((orderAt ? orderAt : stageAt)->range, "order and stage go together (one entry per scheduled statement)");
  if (stageAt && !stagesGiven && !stage.empty()) {
    stages = int(*std::max_element(stage.begin(), stage.end()) + 1);
    stagesAt = stageAt->range;
  }
}

// The loop kinds "did you mean" offers: the other spellings (Serial, parallel) are
// accepted but never suggested (a misspelt Parallel would otherwise be ambiguous).
static std::vector<std::string> canonicalLoopKinds() {
  std::vector<std::string> names = vocabulary::namesOf({vocabulary::Kind::Loop});
  names.erase(std::remove_if(names.begin(), names.end(),
                             [](const std::string& n) { return n == "Serial" || n == "parallel"; }),
              names.end());
  return names;
}

StmtRef Analyzer::forStmt(const ast::For& f) {
  if (f.iter->kind != ast::ExprKind::Call)
    fail(f.iter->range, "expected Parallel(...), Pipelined(...), serial(...), range(...), vectorized(...) or unroll(...)");
  const auto& c = f.iter->as<ast::Call>();
  std::string kind = calleeName(c);
  // TVM's lowercase T.parallel makes the loop kind TileLang's Parallel is built on
  // (TileLang lowers both alike); T.Serial is TileLang's other spelling of serial.
  if (kind == "Parallel" || kind == "parallel") return parallel(f, c);
  if (kind == "Serial") kind = "serial";
  if (kind != "serial" && kind != "range" && kind != "Pipelined" && kind != "vectorized" && kind != "unroll")
    failUnknown(c.callee->range,
                "unknown loop kind '" + kind + "'; expected Parallel, Pipelined, serial, range, vectorized or unroll",
                kind, canonicalLoopKinds());
  checkKeywords(c, kind, kind == "Pipelined" ? std::vector<std::string>{"num_stages", "order", "stage", "group", "sync"}
                                             : std::vector<std::string>{});
  if (f.vars.size() != 1) fail(f.vars.size() > 1 ? f.vars[1].range : f.range, "a " + kind + " loop binds one variable");
  ExprRef mn = intImm(0), ext, step;
  int stages = 0;
  SourceRange stagesAt;
  std::vector<ExprRef> args;
  for (const auto& a : c.args) {
    ExprRef e = scalarExpr(*a);
    if (!isInt(e->dtype)) fail(a->range, "loop bounds must be integers");
    args.push_back(cast(DType::Int32, e));
  }
  if (kind == "range") {
    if (args.empty() || args.size() > 3) fail(c.range, "range takes (stop), (start, stop) or (start, stop, step)");
    if (args.size() == 1) ext = args[0];
    else { mn = args[0]; ext = sub(args[1], args[0]); }
    if (args.size() == 3) {
      auto s = asConstInt(args[2]);
      if (!s || *s == 0) fail(c.args[2]->range, "a range step must be a non-zero compile-time integer");
      if (*s != 1) step = args[2];
    }
  } else {
    // TileLang's serial / Pipelined / vectorized / unroll: (stop) or (start, stop).
    if (args.empty() || args.size() > 2) fail(c.range, kind + " takes (stop) or (start, stop)");
    if (args.size() == 1) ext = args[0];
    else { mn = args[0]; ext = sub(args[1], args[0]); }
  }
  bool stagesGiven = false;
  for (const auto& kw : c.kwargs)
    if (kind == "Pipelined" && kw.name == "num_stages") {
      auto s = constIntArg(*kw.value, "num_stages");
      if (s < 0 || s > 16) fail(kw.value->range, "num_stages must be between 0 and 16");
      stages = (int)s;
      stagesAt = kw.value->range;
      stagesGiven = true;
    }
  if (kind == "Pipelined") pipelineSchedule(c, stagesGiven, stages, stagesAt);
  // A Pipelined loop runs from 0 (the form PipelineLoops pipelines); a start is
  // added to its variable where the body reads it.
  const bool shifted = kind == "Pipelined" && !(asConstInt(mn) && *asConstInt(mn) == 0);
  auto var = makeVar(uniqueName(f.vars[0].name), DType::Int32);
  scopes_.emplace_back();
  Value v;
  v.kind = Value::Scalar;
  v.expr = shifted ? add(var, mn) : ExprRef(var);
  define(f.vars[0].name, v, f.vars[0].range);
  {
    auto lo = asConstInt(mn), count = asConstInt(ext);
    auto by = step ? asConstInt(step) : std::optional<int64_t>(1);
    constexpr int64_t kSmall = int64_t(1) << 31;
    if (lo && count && by && *by > 0 && *count > 0 && *count < kSmall && *lo > -kSmall && *lo < kSmall)
      loopRanges_[var] = {*lo, *lo + (*count - 1) / *by * *by};
  }
  auto body = block(*f.body, false);
  loopRanges_.erase(var);
  scopes_.pop_back();
  // vectorized / unroll: a loop each thread runs whole, its body repeated per
  // iteration when the extent is a small constant (LLVM then vectorizes the
  // straight-line code as it can); otherwise a serial loop.
  ForKind forKind = kind == "Pipelined" ? ForKind::Pipelined : ForKind::Serial;
  if ((kind == "vectorized" || kind == "unroll") && asConstInt(ext) && *asConstInt(ext) > 0 &&
      *asConstInt(ext) <= ir::limits::UnrolledElementsPerThread)
    forKind = ForKind::Unrolled;
  auto loop = std::make_shared<ForStmt>(f.range, var, shifted ? intImm(0) : mn, ext, forKind, body);
  loop->step = step;
  loop->stages = stages;
  // Stages pipeline the loop's copies; with none there is nothing to overlap, which
  // is usually a copy that was moved out of the loop, or a macro that does not copy.
  if (stages >= 2 && !holdsCopy(body))
    warning(Warning::PipelineNoCopy, stagesAt,
            "Pipelined loop with num_stages=" + std::to_string(stages) +
                " holds no copy: there are no loads to overlap, and it runs as a serial loop");
  return loop;
}

// Whether `s` holds a copy (a tile copy, or a low-level copy intrinsic) anywhere.
bool Analyzer::holdsCopy(const StmtRef& s) {
  class CopyFinder : public StmtVisitor {
   public:
    bool found = false;

   protected:
    void visitCopy(CopyOp&) override { found = true; }
    void visitIntrinsic(IntrinsicStmt&) override { found = true; }
  } finder;
  finder.visit(s);
  return finder.found;
}

std::optional<int64_t> Analyzer::upperBound(const ExprRef& e) const {
  if (auto k = asConstInt(e)) return k;
  if (auto span = indexRange(e)) return span->second;  // over loop variables of constant bounds
  switch (e->kind) {
    case ExprKind::Cast:
      if (isInt(e->dtype) && isInt(e->as<CastNode>().a->dtype) && bits(e->dtype) >= bits(e->as<CastNode>().a->dtype))
        return upperBound(e->as<CastNode>().a);
      return std::nullopt;
    case ExprKind::Select: {
      auto t = upperBound(e->as<SelectNode>().t), f = upperBound(e->as<SelectNode>().f);
      if (t && f) return std::max(*t, *f);
      return std::nullopt;
    }
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      auto x = upperBound(b.a), y = upperBound(b.b);
      switch (b.op) {
        case BinOp::Min:
          if (x && y) return std::min(*x, *y);
          return x ? x : y;
        case BinOp::Max:
          if (x && y) return std::max(*x, *y);
          return std::nullopt;
        case BinOp::Add: {
          int64_t sum;
          if (x && y && !__builtin_add_overflow(*x, *y, &sum)) return sum;
          return std::nullopt;
        }
        case BinOp::FloorMod:
          if (auto k = asConstInt(b.b); k && *k > 0) return *k - 1;
          return std::nullopt;
        case BinOp::Sub: {
          // hi - lo of a slice: `min(b, a + 64) - a` is at most 64.
          if (auto d = constantDifference(b.a, b.b)) return d;
          if (b.a->kind == ExprKind::Binary && b.a->as<BinaryNode>().op == BinOp::Min) {
            auto p = upperBound(sub(b.a->as<BinaryNode>().a, b.b)), q = upperBound(sub(b.a->as<BinaryNode>().b, b.b));
            if (p && q) return std::min(*p, *q);
            return p ? p : q;
          }
          return std::nullopt;
        }
        default: return std::nullopt;
      }
    }
    default: return std::nullopt;
  }
}

StmtRef Analyzer::parallel(const ast::For& f, const ast::Call& c) {
  // Perfectly nested Parallel loops (the outer body is the inner loop alone) are one
  // loop nest, as in TileLang: `for i in Parallel(M) { for j in Parallel(N) { .. } }`
  // is `for i, j in Parallel(M, N) { .. }`; an inner extent may read the outer index.
  std::vector<std::pair<const ast::For*, const ast::Call*>> levels = {{&f, &c}};
  for (;;) {
    const ast::Block& body = *levels.back().first->body;
    if (body.stmts.size() != 1 || body.stmts[0]->kind != ast::StmtKind::For) break;
    const auto& inner = body.stmts[0]->as<ast::For>();
    if (inner.iter->kind != ast::ExprKind::Call) break;
    if (std::string k = calleeName(inner.iter->as<ast::Call>()); k != "Parallel" && k != "parallel") break;
    levels.push_back({&inner, &inner.iter->as<ast::Call>()});
  }
  if (inParallel_)
    fail(c.callee->range, "not yet supported: a Parallel loop inside another Parallel loop with other statements "
                          "around it (a Parallel loop that is the outer loop's only statement nests)");
  for (const auto& [lf, lc] : levels) {
    checkKeywords(*lc, "Parallel", {"loop_layout"});
    if (lc->args.size() != lf->vars.size())
      fail(lc->range, "Parallel has " + std::to_string(lc->args.size()) + " extent" + (lc->args.size() == 1 ? "" : "s") +
                          " but the loop binds " + std::to_string(lf->vars.size()) + " variable" +
                          (lf->vars.size() == 1 ? "" : "s"));
    if (lc->args.empty()) fail(lc->range, "Parallel needs at least one extent");
    if (levels.size() > 1)
      if (const ast::Expr* l = keyword(*lc, "loop_layout"))
        fail(l->range, "not yet supported: loop_layout on nested Parallel loops; write one Parallel(M, N) loop");
  }
  // Each extent: a compile-time integer, or a run-time one with a compile-time bound
  // (the loop runs over the bound; `index < extent` guards the body, as a copy's
  // ragged edge is guarded). A single run-time extent with no bound runs in chunks
  // of the block's threads.
  scopes_.emplace_back();
  std::vector<VarRef> vars;
  std::vector<int64_t> extents;
  ExprRef guard;       // the conjunction of `index < extent` over the run-time extents
  VarRef chunk;        // the serial loop over chunks, for an unbounded extent
  ExprRef chunkCount;  // its trip count
  int64_t iterations = 1;
  auto popScope = [&] {
    for (const auto& v : vars) loopRanges_.erase(v);
    if (chunk) unboundedChunks_.erase(chunk);
    scopes_.pop_back();
  };
  try {
    for (const auto& [lf, lc] : levels) {
      std::vector<std::pair<int64_t, ExprRef>> levelExtents;  // bound, run-time limit (or null)
      for (const auto& a : lc->args) {
        ExprRef e = scalarExpr(*a);
        if (!isInt(e->dtype)) fail(a->range, "a Parallel extent must be an integer, not " + std::string(name(e->dtype)));
        if (auto k = asConstInt(e)) {
          if (*k <= 0) fail(a->range, "a Parallel extent must be positive");
          levelExtents.push_back({*k, nullptr});
          continue;
        }
        auto bound = upperBound(e);
        if (bound && *bound <= 0)
          fail(a->range, "this Parallel extent is at most " + std::to_string(*bound) + ": the loop never runs");
        if (!bound) {
          if (levels.size() > 1 || lc->args.size() != 1 || keyword(*lc, "loop_layout"))
            fail(a->range, "a run-time Parallel extent needs a compile-time bound here: write min(" + toString(e) +
                               ", K) with a constant K (only a loop of one run-time extent alone runs without "
                               "one, in chunks of the block's threads)");
          bound = threads_;  // one chunk: each thread one index
          chunk = makeVar(uniqueName(lf->vars[0].name + "_chunk"), DType::Int32);
          unboundedChunks_.insert(chunk);
          ExprRef limit = cast(DType::Int32, e);
          chunkCount = unary(UnOp::Neg, floorDiv(unary(UnOp::Neg, limit), intImm(threads_)));
        }
        levelExtents.push_back({*bound, cast(DType::Int32, e)});
      }
      for (size_t i = 0; i < lf->vars.size(); ++i) {
        auto [bound, limit] = levelExtents[i];
        if (__builtin_mul_overflow(iterations, bound, &iterations) || iterations > INT32_MAX)
          fail(lc->range, "a Parallel loop has at most 2147483647 iterations");
        auto var = makeVar(uniqueName(lf->vars[i].name), DType::Int32);
        vars.push_back(var);
        extents.push_back(bound);
        ExprRef index = var;
        if (chunk) index = add(mul(chunk, intImm(bound)), var);
        else loopRanges_[var] = {0, bound - 1};
        if (limit) guard = logicalAnd(guard, lt(index, limit));
        Value val;
        val.kind = Value::Scalar;
        val.expr = index;
        define(lf->vars[i].name, val, lf->vars[i].range);
      }
    }
  } catch (Failed&) {
    popScope();
    throw;
  }
  ThreadLayoutRef layout;
  SourceRange layoutAt;
  if (const ast::Expr* l = keyword(c, "loop_layout")) {
    try {
      layout = layoutArg(*l);
      layoutAt = l->range;
      checkLayoutShape(layout, extents, layoutAt, "Parallel loop");
    } catch (Failed&) {
      popScope();
      throw;
    }
  }
  inParallel_ = true;
  // The body is lowered once per element a thread unrolls.
  int64_t outerWeight = expansionWeight_;
  expansionWeight_ = outerWeight * unrolledCopies(iterations, threads_, layout != nullptr, /*touchesFragment=*/true);
  StmtRef body;
  try {
    body = block(*levels.back().first->body, false);
  } catch (Failed&) {
    inParallel_ = false;
    expansionWeight_ = outerWeight;
    popScope();
    throw;
  }
  expansionWeight_ = outerWeight;
  inParallel_ = false;
  popScope();
  if (guard) body = std::make_shared<IfStmt>(f.range, guard, body, nullptr);
  if (!layout) withUnitAxis(vars, extents, body);
  auto loop = std::make_shared<ParallelOp>(f.range, vars, extents, body);
  loop->layout = layout;
  loop->layoutAt = layoutAt;
  if (!chunk) return loop;
  return std::make_shared<ForStmt>(f.range, chunk, intImm(0), chunkCount, ForKind::Serial, loop);
}

// A fragment one rank above the loop whose extra axis has extent 1, read and written
// at index 0 there and at the loop's variables, in order, elsewhere (TileLang's
// `for i in Parallel(N) { f[0, i] = ... }` on a (1, N) fragment, a row kernel with
// BM = 1): the loop gains that unit axis, a variable that is always 0, and every
// constant 0 index on a unit axis of a fragment becomes it. The loop then runs over
// the fragment's own shape (its elements written at the loop's own element) and a
// (1,) row statistic read as s[0] is the broadcast it is; nothing else changes
// (the new variable is 0 in every iteration).
void Analyzer::withUnitAxis(std::vector<VarRef>& vars, std::vector<int64_t>& extents, StmtRef& body) {
  std::map<const Buffer*, std::vector<std::vector<ExprRef>>, ById> accesses;
  std::map<const Buffer*, BufferRef, ById> fragments;
  RewriteHooks collect;
  collect.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    if (l.buffer->scope == MemScope::Fragment) {
      accesses[l.buffer.get()].push_back(idx);
      fragments[l.buffer.get()] = l.buffer;
    }
    return nullptr;
  };
  collect.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef) -> StmtRef {
    if (st.buffer->scope == MemScope::Fragment) {
      accesses[st.buffer.get()].push_back(idx);
      fragments[st.buffer.get()] = st.buffer;
    }
    return nullptr;
  };
  rewriteStmt(body, {}, collect);
  auto isZero = [](const ExprRef& e) { auto k = asConstInt(e); return k && *k == 0; };
  // The unit axis of the first fragment that has the pattern.
  int unit = -1;
  for (const auto& [raw, list] : accesses) {
    const Buffer& b = *fragments[raw];
    if (b.shape.size() != vars.size() + 1) continue;
    for (size_t p = 0; p < b.shape.size() && unit < 0; ++p) {
      if (*asConstInt(b.shape[p]) != 1) continue;
      bool all = true;
      for (const auto& idx : list) {
        size_t v = 0;
        for (size_t a = 0; a < idx.size() && all; ++a) {
          if (a == p) {
            all = isZero(idx[a]);
            continue;
          }
          all = idx[a].get() == vars[v].get() && *asConstInt(b.shape[a]) == extents[v];
          ++v;
        }
      }
      if (all) unit = int(p);
    }
    if (unit >= 0) break;
  }
  if (unit < 0) return;
  VarRef u = makeVar(uniqueName("unit"), DType::Int32);
  vars.insert(vars.begin() + unit, u);
  extents.insert(extents.begin() + unit, 1);
  auto widen = [&](const Buffer& b, std::vector<ExprRef> idx) {
    for (size_t a = 0; a < idx.size(); ++a)
      if (*asConstInt(b.shape[a]) == 1 && isZero(idx[a])) {
        idx[a] = u;
        break;
      }
    return idx;
  };
  RewriteHooks rewrite;
  rewrite.load = [&](const LoadNode& l, std::vector<ExprRef> idx) -> ExprRef {
    if (l.buffer->scope != MemScope::Fragment) return nullptr;
    return moveLoad(l, l.buffer, widen(*l.buffer, std::move(idx)));
  };
  rewrite.store = [&](const StoreStmt& st, std::vector<ExprRef> idx, ExprRef value) -> StmtRef {
    if (st.buffer->scope != MemScope::Fragment) return nullptr;
    return moveStore(st, st.buffer, widen(*st.buffer, std::move(idx)), value);
  };
  body = rewriteStmt(body, {}, rewrite);
}

StmtRef Analyzer::exprStmt(const ast::ExprStmt& s) {
  if (s.expr->kind != ast::ExprKind::Call) fail(s.range, "this expression has no effect; a statement must be a call or an assignment");
  const auto& c = s.expr->as<ast::Call>();
  std::string callee = calleeName(c);
  requireTargetFor(c, callee);
  if (callee == "copy" || callee == "async_copy") return copyOp(c, callee);
  if (callee == "tma_copy") return tmaCopyOp(c);
  if (callee == "tma_load" || callee == "tma_store" || callee == "prefetch_tma_descriptor")
    return tensorMapIntrinsic(c, callee);
  if (callee == "cp_async_gs" || callee == "cp_async_gs_conditional" || callee == "cp_async_shared_global")
    return cpAsyncIntrinsic(c, callee);
  if (callee == "copy_cluster") return copyClusterOp(c);
  if (callee == "cp_async_commit" || callee == "cp_async_wait" || callee == "ptx_commit_group" ||
      callee == "ptx_wait_group")
    return cpAsyncGroup(c, callee);
  if (callee == "fill" || callee == "clear") return fillOp(c, callee);
  if (isReduction(callee)) return reduceOp(c, callee);
  if (callee == "cumsum") return cumsumOp(c);
  if (isAtomicName(callee)) return atomicOp(c, callee, nullptr);
  if (callee == "atomic_addx2" || callee == "atomic_addx4") return atomicAddVector(c, callee);
  if (callee == "barrier_arrive" || callee == "mbarrier_arrive" || callee == "mbarrier_wait_parity" ||
      callee == "barrier_wait" || callee == "mbarrier_expect_tx" ||
      callee == "tma_store_arrive" || callee == "tma_store_wait")
    return syncOp(c, callee);
  if (callee == "transpose") return transposeOp(c);
  if (callee == "print") return printStmt(c);
  if (callee == "assume") return assumeStmt(c);
  if (callee == "reads" || callee == "writes") return nullptr;  // TVM's block annotations (scopeBlock)
  if (callee == "annotate_safe_value") return annotateSafeValue(c);
  if (callee == "Fragment") fail(c.range, "'Fragment' makes a layout; give it a name: L = Fragment(...)");
  if (callee == "im2col" || callee == "c2d_im2col") return im2colOp(c, callee);
  if (callee == "annotate_layout") {
    annotateLayout(c);
    return std::make_shared<SeqStmt>(c.range);  // nothing runs: the tiles carry the layout
  }
  if (callee == "swizzled" || callee == "padded" || callee == "Layout")
    fail(c.range, "'" + callee + "(...)' is a layout; give it to annotate_layout({tile: " + callee +
                      (callee == "Layout" ? "(tile.shape, lambda i, j: ...)})" : "(tile, ...)})"));
  if (callee == "sync_threads" || callee == "fence_proxy_async" || callee == "cluster_sync" ||
      callee == "cluster_arrive" || callee == "cluster_wait") {
    checkKeywords(c, callee, {});
    if (!c.args.empty()) fail(c.args[0]->range, callee + "() takes no arguments");
    if (inParallel_) fail(c.range, callee + "() cannot be called inside a Parallel loop");
    return std::make_shared<BarrierStmt>(c.range, callee == "sync_threads"     ? BarrierKind::SyncThreads
                                                  : callee == "cluster_sync"   ? BarrierKind::ClusterSync
                                                  : callee == "cluster_arrive" ? BarrierKind::ClusterArrive
                                                  : callee == "cluster_wait"   ? BarrierKind::ClusterWait
                                                                               : BarrierKind::FenceProxyAsync);
  }
  if (auto m = macros_.find(callee); m != macros_.end()) return inlineMacro(c, *m->second.decl);
  if (callee == "tma_gather4" || callee == "tma_scatter4") return gather4Op(c, callee);
  if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
  if (isRegionHelper(callee))
    fail(c.range, "'" + callee + "(...)' alone does nothing; pass it as an operand of a tile operation: copy(" + callee +
                      "(...), ...)");
  if (isPureBuiltin(callee)) fail(c.range, "the result of '" + callee + "' is unused");
  if (makesBuffer(callee)) fail(c.range, "'" + callee + "' makes a buffer; give it a name: X = " + callee + "(...)");
  failUnknownFunction(c, callee);
}

bool Analyzer::makesBuffer(const std::string& n) {
  return vocabulary::kindOf(n) == vocabulary::Kind::Named || isFromPtr(n) || isProxyKind(n);
}

bool Analyzer::isFromPtr(const std::string& n) {
  size_t dot = n.find('.');
  return dot != std::string::npos && n.substr(dot) == ".from_ptr" && isProxyKind(n.substr(0, dot));
}

bool Analyzer::isPureBuiltin(const std::string& n) {
  auto kind = vocabulary::kindOf(n);
  return kind == vocabulary::Kind::Value || kind == vocabulary::Kind::Math;
}

StmtRef Analyzer::inlineMacro(const ast::Call& c, const ast::FunctionDecl& m) {
  if (macroDepth_ >= 32) fail(c.range, "macro '" + m.name + "' expands too deeply (recursive macros are not allowed)");
  expansions_.push_back({&m, c.range});
  try {
    StmtRef body = expandMacro(c, m);
    expansions_.pop_back();
    return body;
  } catch (Failed&) {
    expansions_.pop_back();
    throw;
  }
}

StmtRef Analyzer::expandMacro(const ast::Call& c, const ast::FunctionDecl& m) {
  std::vector<const ast::Expr*> args(m.params.size(), nullptr);
  if (c.args.size() > m.params.size())
    fail(c.args[m.params.size()]->range, "macro '" + m.name + "' takes " + std::to_string(m.params.size()) + " arguments");
  for (size_t i = 0; i < c.args.size(); ++i) args[i] = c.args[i].get();
  for (const auto& kw : c.kwargs) {
    auto it = std::find_if(m.params.begin(), m.params.end(), [&](const ast::Param& p) { return p.name == kw.name; });
    if (it == m.params.end()) fail(kw.nameRange, "macro '" + m.name + "' has no parameter '" + kw.name + "'");
    size_t idx = it - m.params.begin();
    if (args[idx]) fail(kw.nameRange, "parameter '" + kw.name + "' is given twice");
    args[idx] = kw.value.get();
  }
  for (size_t i = 0; i < args.size(); ++i)
    if (!args[i]) {
      error(c.range, "missing argument '" + m.params[i].name + "' in call to macro '" + m.name + "'");
      noteDecl(m.name, m.nameRange);
      throw Failed{};
    }

  // Bind in a scope that hides the caller's locals: macros are lexically scoped.
  std::map<std::string, Value> bound;
  for (size_t i = 0; i < args.size(); ++i) bound[m.params[i].name] = macroArgument(m.params[i], *args[i], m);
  auto savedScopes = std::move(scopes_);
  scopes_.clear();
  scopes_.push_back(std::move(bound));
  ++macroDepth_;
  StmtRef body;
  try {
    body = block(*m.body, true);
  } catch (Failed&) {
    --macroDepth_;
    scopes_ = std::move(savedScopes);
    throw;
  }
  --macroDepth_;
  scopes_ = std::move(savedScopes);
  return body;
}

Value Analyzer::macroArgument(const ast::Param& p, const ast::Expr& arg, const ast::FunctionDecl& m) {
  const ast::Expr& t = *p.type;
  Value v;
  v.decl = p.nameRange;
  if (t.kind == ast::ExprKind::Name) {
    DType dt = dtypeArg(t);
    ExprRef e = scalarExpr(arg);
    if (e->dtype == DType::Handle) fail(arg.range, "a pointer cannot be passed as a scalar");
    v.kind = Value::Scalar;
    v.expr = convert(dt, e, arg.range);
    return v;
  }
  if (t.kind != ast::ExprKind::Call && t.kind != ast::ExprKind::Index) fail(t.range, "expected a parameter type");
  std::string kind = proxyKind(t);
  static const std::map<std::string, std::optional<MemScope>> kinds = {
      {"Tensor", MemScope::Global},         {"StridedTensor", MemScope::Global},
      {"SharedBuffer", MemScope::Shared},   {"FragmentBuffer", MemScope::Fragment},
      {"LocalBuffer", MemScope::Local},     {"Buffer", std::nullopt}, {"BaseTensor", std::nullopt}};
  auto k = kinds.find(kind);
  if (k == kinds.end())
    failUnknown(t.kind == ast::ExprKind::Call ? t.as<ast::Call>().callee->range : t.as<ast::Index>().base->range,
                "unknown macro parameter type '" + kind +
                    "'; expected Tensor, StridedTensor, SharedBuffer, FragmentBuffer, LocalBuffer, Buffer, BaseTensor or a dtype",
                kind, vocabulary::namesOf({vocabulary::Kind::Type}));
  ProxySpec spec = readProxy(t);
  // A macro parameter matches its argument's buffer: what describes a tensor's memory
  // belongs on the kernel parameter or view that declares it.
  for (const char* own : {"data", "elem_offset", "align", "offset_factor", "buffer_type", "axis_separators"})
    if (const ast::Expr* e = spec.arg(own))
      fail(spec.named.count(own) ? spec.named.at(own) : e->range,
           std::string(own) + "= describes a tensor's memory, which the kernel parameter or view that declares it "
                              "gives; a macro parameter matches its argument's shape, dtype and scope");
  std::optional<MemScope> want = k->second;
  if (const ast::Expr* scope = spec.arg("scope")) {
    std::string s = stringValue(*scope, "scope", kValidScopes);
    want = scopeFromName(s);
    if (!want) fail(scope->range, "unknown scope \"" + s + "\"; valid: " + kValidScopes);
  }
  BufferRef buf = bufferOf(arg);
  if (want && *want != buf->scope) {
    error(arg.range, "macro parameter '" + p.name + "' is " + kind + " (" + name(*want) + ") but '" + buf->name +
                                "' is " + name(buf->scope));
    noteDecl(buf->name, buf->declRange);
    throw Failed{};
  }
  // Constant shape entries and the dtype, when given, must match (a bare name in the
  // shape matches any extent; no dtype matches any: TileLang does not check a
  // macro's annotations at all).
  const auto& items = spec.shape;
  if (items.size() != buf->shape.size())
    failAbout(arg.range, "macro parameter '" + p.name + "' has rank " + std::to_string(items.size()) + " but '" +
                             buf->name + "' has rank " + std::to_string(buf->shape.size()),
              buf);
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i]->kind == ast::ExprKind::Name && !globals_.count(items[i]->as<ast::Name>().name)) continue;
    Value s = evalConst(*items[i]);
    auto actual = asConstInt(buf->shape[i]);
    if (s.kind == Value::ConstInt && actual && *actual != s.intValue)
      failAbout(arg.range, "macro parameter '" + p.name + "' expects extent " + std::to_string(s.intValue) +
                               " in dimension " + std::to_string(i) + " but '" + buf->name + "' has " +
                               std::to_string(*actual),
                buf);
  }
  if (const ast::Expr* dtype = spec.arg("dtype")) {
    DType dt = dtypeArg(*dtype);
    if (dt != buf->dtype)
      failAbout(arg.range, "macro parameter '" + p.name + "' expects " + name(dt) + " but '" + buf->name + "' is " +
                               name(buf->dtype),
                buf);
  }
  (void)m;
  v.kind = Value::BufferV;
  v.buffer = buf;
  return v;
}

BufferRef Analyzer::bufferOf(const ast::Expr& e) {
  if (e.kind == ast::ExprKind::Call) {
    const auto& c = e.as<ast::Call>();
    std::string callee = calleeName(c);
    if (callee == "view" || callee == "reshape") return inlineView(c, callee);
  }
  if (e.kind != ast::ExprKind::Name) fail(e.range, "expected a buffer name");
  const auto& n = e.as<ast::Name>().name;
  const Value* v = lookup(n);
  if (!v) failUnknown(e.range, "use of undeclared name '" + n + "'", n, namesInScope());
  if (v->kind == Value::None) throw Failed{};  // its declaration already failed
  if (v->kind != Value::BufferV) {
    error(e.range, "'" + n + "' is " + describe(*v) + ", not a buffer" +
                       (v->kind == Value::Pointer ? "; view it as one with make_tensor(" + n + ", shape, dtype)" : ""));
    noteDecl(n, v->decl);
    throw Failed{};
  }
  return v->buffer;
}

// buffer_type="auto_broadcast": an axis of extent 1 broadcasts (TVM gives it stride
// 0), so its index addresses element 0 whatever it is; on a run-time extent that
// may be 1 the choice is made at run time.
bool Analyzer::broadcastAxis(const BufferRef& buf, size_t axis) {
  if (!buf->autoBroadcast) return false;
  auto dim = asConstInt(buf->shape[axis]);
  return !dim || *dim == 1;
}

std::vector<ExprRef> Analyzer::broadcastIndices(const BufferRef& buf, std::vector<ExprRef> indices) {
  if (!buf->autoBroadcast) return indices;
  for (size_t k = 0; k < indices.size(); ++k) {
    if (!broadcastAxis(buf, k)) continue;
    if (asConstInt(buf->shape[k])) indices[k] = intImm(0);
    else indices[k] = select(binary(BinOp::Eq, buf->shape[k], intImm(1)), intImm(0), cast(DType::Int32, indices[k]));
  }
  return indices;
}

std::vector<ExprRef> Analyzer::elementIndices(const ast::Index& ix, const BufferRef& buf) {
  rejectBarrier(buf, ix.range);
  checkRank(ix, buf);
  std::vector<ExprRef> out;
  for (size_t i = 0; i < ix.items.size(); ++i) {
    const auto& item = ix.items[i];
    if (item.isSlice) fail(item.range, "a slice is not allowed here; slices name regions in copy() and fill()");
    ExprRef e = scalarExpr(*item.value);
    if (!isInt(e->dtype)) fail(item.range, std::string("an index must be an integer, not ") + name(e->dtype));
    if (broadcastAxis(buf, i)) {
      if (auto k = asConstInt(e); k && *k < 0)
        failAbout(item.range, "index " + std::to_string(*k) + " is outside dimension " + std::to_string(i) + " of '" +
                                  buf->name + "' (indices start at 0)",
                  buf);
    } else if (auto k = asConstInt(e)) {
      checkElementInside(*k, i, buf, item.range);
    } else {
      checkIndexRange(e, i, buf, item.range);
    }
    out.push_back(cast(DType::Int32, e));
  }
  return broadcastIndices(buf, std::move(out));
}

void Analyzer::checkRank(const ast::Index& ix, const BufferRef& buf) {
  if (ix.items.size() == buf->shape.size()) return;
  error(ix.range, "'" + buf->name + "' has " + std::to_string(buf->shape.size()) + " dimension" +
                             (buf->shape.size() == 1 ? "" : "s") + " but " + std::to_string(ix.items.size()) +
                             (ix.items.size() == 1 ? " index is" : " indices are") + " given");
  noteDecl(buf->name, buf->declRange);
  throw Failed{};
}

void Analyzer::failAbout(SourceRange r, const std::string& msg, const BufferRef& buf) {
  error(r, msg);
  noteDecl(buf->name, buf->declRange);
  throw Failed{};
}

// The values `e` takes over the loop variables' ranges, when it reads nothing else.
std::optional<std::pair<int64_t, int64_t>> Analyzer::indexRange(const ExprRef& e) const {
  using Span = std::pair<int64_t, int64_t>;
  constexpr int64_t kLimit = int64_t(1) << 40;  // far from overflow, far past any tile
  if (auto c = asConstInt(e)) {
    if (*c < -kLimit || *c > kLimit) return std::nullopt;
    return Span{*c, *c};
  }
  auto fits = [&](int64_t lo, int64_t hi) -> std::optional<Span> {
    if (lo < -kLimit || hi > kLimit) return std::nullopt;
    return Span{lo, hi};
  };
  switch (e->kind) {
    case ExprKind::Var: {
      auto it = loopRanges_.find(std::static_pointer_cast<const VarNode>(e));
      if (it == loopRanges_.end()) return std::nullopt;
      return it->second;
    }
    case ExprKind::Cast:
      if (isInt(e->dtype) && isInt(e->as<CastNode>().a->dtype) && bits(e->dtype) >= bits(e->as<CastNode>().a->dtype))
        return indexRange(e->as<CastNode>().a);
      return std::nullopt;
    case ExprKind::Unary:
      if (e->as<UnaryNode>().op == UnOp::Neg)
        if (auto r = indexRange(e->as<UnaryNode>().a)) return Span{-r->second, -r->first};
      return std::nullopt;
    case ExprKind::Binary: {
      const auto& b = e->as<BinaryNode>();
      auto x = indexRange(b.a);
      auto k = asConstInt(b.b);
      if (!x) return std::nullopt;
      switch (b.op) {
        case BinOp::Add:
        case BinOp::Sub: {
          auto y = indexRange(b.b);
          if (!y) return std::nullopt;
          return b.op == BinOp::Add ? fits(x->first + y->first, x->second + y->second)
                                    : fits(x->first - y->second, x->second - y->first);
        }
        case BinOp::Mul: {
          int64_t lo, hi;
          if (!k || __builtin_mul_overflow(x->first, *k, &lo) || __builtin_mul_overflow(x->second, *k, &hi))
            return std::nullopt;
          return *k >= 0 ? fits(lo, hi) : fits(hi, lo);
        }
        case BinOp::FloorDiv:
        case BinOp::Shr: {
          if (!k || *k <= 0 || (b.op == BinOp::Shr && *k > 40)) return std::nullopt;
          int64_t d = b.op == BinOp::Shr ? int64_t(1) << *k : *k;
          auto fdiv = [d](int64_t v) { return v / d - (v % d != 0 && v < 0); };
          return Span{fdiv(x->first), fdiv(x->second)};
        }
        case BinOp::FloorMod:
          if (!k || *k <= 0) return std::nullopt;
          if (x->first >= 0 && x->second < *k) return x;
          return Span{0, *k - 1};
        default: return std::nullopt;
      }
    }
    default: return std::nullopt;
  }
}

// An index into a tile (shared, fragment, local) of a constant extent, over loop
// variables of constant bounds: all its values must lie in the tile (`s[i + 20]` in
// a Parallel(16) loop over a 32-row tile reads rows 32..35 past it).
static bool readsVar(const ExprRef& e, const std::set<VarRef, ById>& vars) {
  switch (e->kind) {
    case ExprKind::Var: return vars.count(std::static_pointer_cast<const VarNode>(e)) != 0;
    case ExprKind::Binary: return readsVar(e->as<BinaryNode>().a, vars) || readsVar(e->as<BinaryNode>().b, vars);
    case ExprKind::Unary: return readsVar(e->as<UnaryNode>().a, vars);
    case ExprKind::Cast: return readsVar(e->as<CastNode>().a, vars);
    case ExprKind::Select:
      return readsVar(e->as<SelectNode>().cond, vars) || readsVar(e->as<SelectNode>().t, vars) ||
             readsVar(e->as<SelectNode>().f, vars);
    case ExprKind::Call:
      for (const auto& a : e->as<CallNode>().args)
        if (readsVar(a, vars)) return true;
      return false;
    case ExprKind::Load:
      for (const auto& a : e->as<LoadNode>().indices)
        if (readsVar(a, vars)) return true;
      return false;
    default: return false;
  }
}

void Analyzer::checkIndexRange(const ExprRef& index, size_t axis, const BufferRef& buf, SourceRange r) {
  if (buf->scope != MemScope::Global && !unboundedChunks_.empty() && readsVar(index, unboundedChunks_))
    failAbout(r, "index " + toString(index) + " of tile '" + buf->name + "' comes from a Parallel loop of a run-time "
                     "extent with no compile-time bound; bound the extent (Parallel(min(n, K)) with a constant K)",
              buf);
  if (buf->scope == MemScope::Global || loopRanges_.empty()) return;
  auto dim = asConstInt(buf->shape[axis]);
  auto span = indexRange(index);
  if (!dim || !span || (span->first >= 0 && span->second < *dim)) return;
  failAbout(r, "index " + toString(index) + " takes the values " + std::to_string(span->first) + " to " +
                   std::to_string(span->second) + " in its loops, outside dimension " + std::to_string(axis) + " of '" +
                   buf->name + "' (extent " + std::to_string(*dim) + ")",
            buf);
}

void Analyzer::checkElementInside(int64_t index, size_t axis, const BufferRef& buf, SourceRange r) {
  auto dim = asConstInt(buf->shape[axis]);
  if (index < 0 || (dim && index >= *dim))
    failAbout(r, "index " + std::to_string(index) + " is outside dimension " + std::to_string(axis) + " of '" +
                       buf->name + "'" + (dim ? " (extent " + std::to_string(*dim) + ")" : " (indices start at 0)"),
                buf);
}

}  // namespace tlc::sema

namespace tlc::sema {

// print(x, A[i, j], msg="..."): TileLang's T.print for scalar values. Every thread
// that reaches it prints one line, "[block (bx, by, bz) thread tx] msg x = ..., A[i, j]
// = ...", through vprintf (the backend) or the interpreter's print stream. The labels
// are the arguments as written. A Let of the Print call (its value, vprintf's, is
// unused) keeps it a statement every pass already walks: its loads are guarded and
// flattened like any other.
StmtRef Analyzer::printStmt(const ast::Call& c) {
  checkKeywords(c, "print", {"msg"});
  std::string message;
  for (const auto& kw : c.kwargs)
    if (kw.name == "msg") message = stringValue(*kw.value, "print's msg", "a string literal");
  if (c.args.empty()) fail(c.range, "print takes at least one value: print(x), print(A[i, j], msg=\"...\")");
  std::vector<ExprRef> args;
  std::vector<std::string> strings{message};
  const SourceFile* file = diags_.file();
  for (const auto& a : c.args) {
    if (a->kind == ast::ExprKind::StringLit)
      fail(a->range, "print's text goes in msg=\"...\"; its arguments are values");
    if (a->kind == ast::ExprKind::Name)
      if (const Value* v = lookup(a->as<ast::Name>().name); v && v->kind == Value::BufferV) {
        std::string indices;
        for (size_t d = 0; d < v->buffer->shape.size(); ++d) indices += std::string(d ? ", " : "") + "ijkl"[d % 4];
        fail(a->range, "not yet supported: print of a whole buffer ('" + a->as<ast::Name>().name +
                           "'); print its elements: print(" + a->as<ast::Name>().name + "[" + indices + "])");
      }
    ExprRef value = scalarExpr(*a);
    if (value->lanes != 1) fail(a->range, "print takes scalar values");
    // fp8 / fp4 values print as the float32 they convert to.
    if (isStorageOnly(value->dtype)) {
      checkConversion(value->dtype, DType::Float32, a->range);  // fp8 needs sm_89 (found by fuzz_backend)
      value = cast(DType::Float32, value);
    }
    if (value->dtype == DType::Handle) fail(a->range, "print takes numbers, not pointers");
    args.push_back(value);
    const uint32_t begin = a->range.begin.offset, end = a->range.end.offset;
    strings.push_back(file && end > begin && end <= file->text().size() ? file->text().substr(begin, end - begin)
                                                                       : "arg" + std::to_string(args.size()));
  }
  ExprRef printed = call(Builtin::Print, std::move(args), DType::Int32);
  auto node = std::make_shared<CallNode>(printed->as<CallNode>());
  node->strings = std::move(strings);
  return std::make_shared<LetStmt>(c.range, makeVar("tlc_print", DType::Int32), node);
}

}  // namespace tlc::sema
