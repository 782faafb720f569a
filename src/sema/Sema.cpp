// Sema: names, consts, types, macros and regions; builds the tile IR.
//
// The analysis walks each kernel's AST once, with a stack of scopes mapping names
// to Values (a folded constant, a dtype, a scalar expression, a mutable local, a
// buffer, a raw pointer). Macros are inlined at their calls in a fresh scope that
// sees only the file's consts, its own parameters and its own locals. Copy regions
// are built and their extents checked here, with the rule documented in
// docs/language.md: right-align both sides' extents, drop unit dimensions, and
// the remaining extents must be equal.
#include "sema/Sema.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace tlc {
namespace {

using namespace ir;

// ------------------------------------------------------------------ values

struct Value {
  enum Kind { None, ConstInt, ConstFloat, DTypeName, Scalar, Mutable, BufferV, Pointer } kind = None;
  int64_t intValue = 0;
  double floatValue = 0;
  DType dtype = DType::Int32;  // DTypeName: the type; Pointer: its element type
  ExprRef expr;                // Scalar: the expression; Mutable: the var
  VarRef var;                  // Mutable / Pointer: the variable
  BufferRef buffer;            // BufferV
  SourceRange decl;            // where the name was declared
};

struct MacroDef {
  const ast::FunctionDecl* decl = nullptr;
};

// The names of every operator the spec defines but this build does not lower yet.
const std::set<std::string> kNotYetSupported = {
    "async_copy", "tma_copy", "copy_cluster", "transpose", "im2col", "c2d_im2col",
    "tma_gather4", "tma_scatter4", "tma_gather4_bytes", "alloc_barrier", "barrier_arrive",
    "mbarrier_wait_parity", "mbarrier_expect_tx", "shuffle_elect", "cp_async_commit",
    "cp_async_wait", "tma_store_wait", "tma_store_arrive", "cp_async_gs",
    "cp_async_gs_conditional", "cp_async_shared_global", "tma_descriptor", "tma_load",
    "tma_store", "prefetch_tma_descriptor", "block_rank_in_cluster", "cluster_sync",
    "annotate_layout", "annotate_safe_value", "Fragment", "swizzled", "padded",
};

std::string extentsText(const std::vector<int64_t>& e) {
  std::string s = "(";
  for (size_t i = 0; i < e.size(); ++i) s += (i ? ", " : "") + std::to_string(e[i]);
  return s + (e.size() == 1 ? ",)" : ")");
}

// A side of a copy before its extents are settled.
struct RegionSpec {
  BufferRef buffer;
  std::vector<ExprRef> mins;
  std::vector<std::optional<int64_t>> extents;  // per axis; nullopt = unknown (symbolic)
  bool isHead = false;  // an element `A[i, j]`: extents come from the other side
  SourceRange range;
};

// Reports an error and makes the enclosing analysis step give up.
struct Failed {};

class Analyzer {
 public:
  Analyzer(const SemaOptions& options, DiagnosticEngine& diags) : options_(options), diags_(diags) {}

  std::unique_ptr<Module> runWithDefines(const ast::File& file) {
    collectGlobals(file);
    applyDefines();
    refold(file);
    auto module = std::make_unique<Module>();
    for (const auto& decl : file.decls) {
      if (decl->kind != ast::DeclKind::Kernel) continue;
      auto kernel = analyzeKernel(decl->as<ast::FunctionDecl>());
      if (kernel) module->kernels.push_back(std::move(*kernel));
    }
    if (diags_.hasErrors()) return nullptr;
    return module;
  }

 private:
  const SemaOptions& options_;
  DiagnosticEngine& diags_;
  std::map<std::string, Value> globals_;
  std::map<std::string, MacroDef> macros_;
  std::map<std::string, SourceRange> declaredAt_;

  // Per kernel.
  Kernel* kernel_ = nullptr;
  std::vector<std::map<std::string, Value>> scopes_;
  std::map<std::string, VarRef> dimParams_;
  int macroDepth_ = 0;
  bool inParallel_ = false;
  int threads_ = 0;
  std::map<std::string, int> localNames_;  // for unique IR names of shadowing locals

  // ------------------------------------------------------------- utilities

  [[noreturn]] void fail(SourceRange r, const std::string& msg) {
    diags_.error(r, msg);
    throw Failed{};
  }
  void noteDecl(const std::string& name, SourceRange decl) {
    if (decl.valid()) diags_.note(decl, "'" + name + "' declared here");
  }

  const Value* lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return &f->second;
    }
    auto g = globals_.find(name);
    return g == globals_.end() ? nullptr : &g->second;
  }
  void define(const std::string& name, Value v, SourceRange r) {
    auto& scope = scopes_.back();
    if (auto it = scope.find(name); it != scope.end()) {
      diags_.error(r, "redefinition of '" + name + "'");
      noteDecl(name, it->second.decl);
      throw Failed{};
    }
    v.decl = r;
    scope[name] = std::move(v);
  }
  std::string uniqueName(const std::string& base) {
    int n = localNames_[base]++;
    return n == 0 ? base : base + "_" + std::to_string(n);
  }

  // --------------------------------------------------------- file level

  void collectGlobals(const ast::File& file) {
    for (const auto& decl : file.decls) {
      if (auto it = declaredAt_.find(decl->name); it != declaredAt_.end()) {
        diags_.error(decl->nameRange, "redefinition of '" + decl->name + "'");
        noteDecl(decl->name, it->second);
        continue;
      }
      declaredAt_[decl->name] = decl->nameRange;
      switch (decl->kind) {
        case ast::DeclKind::Const: {
          try {
            Value v = evalConst(*decl->as<ast::ConstDecl>().value);
            v.decl = decl->nameRange;
            globals_[decl->name] = v;
          } catch (Failed&) {
          }
          break;
        }
        case ast::DeclKind::Macro:
          macros_[decl->name] = MacroDef{&decl->as<ast::FunctionDecl>()};
          break;
        case ast::DeclKind::Kernel: break;
      }
    }
  }

  // -D NAME=VALUE: replaces a const's value. Consts that depend on it were folded
  // already, so the file is re-folded in order with the override in place.
  void applyDefines() {
    if (options_.defines.empty()) return;
    std::map<std::string, Value> overrides;
    for (const auto& d : options_.defines) {
      auto it = globals_.find(d.name);
      if (it == globals_.end()) {
        diags_.error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the file declares no const named '" + d.name + "'");
        continue;
      }
      Value v;
      if (auto t = dtypeFromName(d.value)) {
        v.kind = Value::DTypeName;
        v.dtype = *t;
      } else {
        char* end = nullptr;
        errno = 0;
        long long parsed = std::strtoll(d.value.c_str(), &end, 0);
        if (d.value.empty() || *end != '\0' || errno == ERANGE) {
          diags_.error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the value must be an integer or a dtype name");
          continue;
        }
        v.kind = Value::ConstInt;
        v.intValue = parsed;
      }
      if ((v.kind == Value::DTypeName) != (it->second.kind == Value::DTypeName)) {
        diags_.error(SourceRange{}, "-D " + d.name + "=" + d.value + ": '" + d.name + "' is " +
                                        (it->second.kind == Value::DTypeName ? "a dtype" : "a number") +
                                        " in the file");
        noteDecl(d.name, it->second.decl);
        continue;
      }
      overrides[d.name] = v;
    }
    overrides_ = overrides;
  }
  std::map<std::string, Value> overrides_;

 public:
  // Re-folds consts in source order with -D overrides applied (called by analyze()).
  void refold(const ast::File& file) {
    if (overrides_.empty()) return;
    for (const auto& decl : file.decls) {
      if (decl->kind != ast::DeclKind::Const) continue;
      if (auto o = overrides_.find(decl->name); o != overrides_.end()) {
        Value v = o->second;
        v.decl = decl->nameRange;
        globals_[decl->name] = v;
        continue;
      }
      try {
        Value v = evalConst(*decl->as<ast::ConstDecl>().value);
        v.decl = decl->nameRange;
        globals_[decl->name] = v;
      } catch (Failed&) {
      }
    }
  }

 private:
  // ------------------------------------------------------- const folding

  Value evalConst(const ast::Expr& e) {
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
          case ast::UnaryOp::Neg: a.intValue = -a.intValue; break;
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
  static int64_t floorDivI(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  }
  Value foldIntBinary(const ast::Binary& b, int64_t x, int64_t y) {
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
        for (int64_t i = 0; i < y; ++i) overflow(__builtin_mul_overflow(acc, x, &acc));
        r.intValue = acc;
        break;
      }
      case ast::BinaryOp::Shl:
        if (y < 0 || y > 62) fail(b.rhs->range, "shift amount out of range");
        r.intValue = x << y;
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

  // ----------------------------------------------------------- kernels

  std::optional<Kernel> analyzeKernel(const ast::FunctionDecl& decl) {
    Kernel k;
    k.name = decl.name;
    k.sourceName = decl.name;
    k.range = decl.range;
    kernel_ = &k;
    scopes_.clear();
    scopes_.emplace_back();
    dimParams_.clear();
    localNames_.clear();
    macroDepth_ = 0;
    unsigned errorsBefore = diags_.errorCount();

    for (const auto& p : decl.params) {
      try {
        analyzeKernelParam(p);
      } catch (Failed&) {
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
      diags_.error(decl.nameRange, "kernel '" + decl.name + "' has no 'with Kernel(...) as (...)' block");
      return std::nullopt;
    }
    for (const auto& s : decl.body->stmts) {
      if (s.get() == launch) continue;
      diags_.error(s->range, s->range.begin.offset < launch->range.begin.offset
                                 ? "statements before 'with Kernel(...)' are not supported; put them inside the block"
                                 : "a kernel holds one 'with Kernel(...)' block and nothing after it");
    }
    try {
      k.body = analyzeLaunch(*launch);
    } catch (Failed&) {
    }
    kernel_ = nullptr;
    if (diags_.errorCount() != errorsBefore) return std::nullopt;
    return k;
  }

  VarRef dimParam(const std::string& name, SourceRange r) {
    if (auto it = dimParams_.find(name); it != dimParams_.end()) return it->second;
    if (const Value* v = lookup(name)) {
      // A scalar int32 parameter named in a shape is that same value.
      if (v->kind == Value::Scalar && v->expr->kind == ExprKind::Var && isInt(v->expr->dtype)) {
        auto var = std::static_pointer_cast<const VarNode>(v->expr);
        dimParams_[name] = var;
        return var;
      }
      diags_.error(r, "'" + name + "' cannot be a dimension: it is not an integer");
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

  // A shape or stride entry of a parameter: a const, or a symbolic dimension.
  ExprRef shapeEntry(const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Name) {
      const auto& n = e.as<ast::Name>().name;
      auto g = globals_.find(n);
      if (g != globals_.end()) {
        if (g->second.kind != Value::ConstInt) fail(e.range, "shape entry '" + n + "' is not an integer");
        return intImm(g->second.intValue);
      }
      return dimParam(n, e.range);
    }
    Value v = evalShapeConst(e);
    return intImm(v.intValue);
  }
  Value evalShapeConst(const ast::Expr& e) {
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

  std::vector<const ast::Expr*> tupleItems(const ast::Expr& e) {
    std::vector<const ast::Expr*> out;
    if (e.kind == ast::ExprKind::Tuple)
      for (const auto& x : e.as<ast::Tuple>().elements) out.push_back(x.get());
    else
      out.push_back(&e);
    return out;
  }

  DType dtypeArg(const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Name) {
      const auto& n = e.as<ast::Name>().name;
      if (auto t = dtypeFromName(n)) return *t;
      if (const Value* v = lookup(n); v && v->kind == Value::DTypeName) return v->dtype;
    }
    if (e.kind == ast::ExprKind::StringLit)
      if (auto t = dtypeFromName(e.as<ast::StringLit>().value)) return *t;
    fail(e.range, "expected a dtype (float16, bfloat16, float32, int32, ...)");
  }

  static std::string calleeName(const ast::Call& c) {
    if (c.callee->kind == ast::ExprKind::Name) return c.callee->as<ast::Name>().name;
    if (c.callee->kind == ast::ExprKind::Attribute) {
      const auto& a = c.callee->as<ast::Attribute>();
      if (a.base->kind == ast::ExprKind::Name) return a.base->as<ast::Name>().name + "." + a.name;
    }
    return "";
  }

  void analyzeKernelParam(const ast::Param& p) {
    const ast::Expr& t = *p.type;
    if (lookup(p.name) || globals_.count(p.name)) {
      diags_.error(p.nameRange, "parameter '" + p.name + "' redefines a name");
      noteDecl(p.name, lookup(p.name) ? lookup(p.name)->decl : SourceRange{});
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
      if (c.args.empty() || c.args.size() > 2) fail(t.range, "ptr takes a dtype and an optional storage scope: ptr(float16)");
      DType dt = dtypeArg(*c.args[0]);
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
    if (kind != "Tensor" && kind != "StridedTensor" && kind != "Buffer")
      fail(c.callee->range, "unknown parameter type '" + kind + "'; expected Tensor, StridedTensor, Buffer, ptr or a dtype");

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
    if (c.args.size() < needed)
      fail(t.range, kind == "StridedTensor" ? "StridedTensor takes (shape, strides, dtype)" : kind + " takes (shape, dtype)");
    auto buf = std::make_shared<Buffer>();
    buf->name = p.name;
    buf->scope = MemScope::Global;
    buf->data = data;
    buf->declRange = p.nameRange;
    for (const auto* s : tupleItems(*c.args[0])) buf->shape.push_back(shapeEntry(*s));
    if (kind == "StridedTensor") {
      auto strides = tupleItems(*c.args[1]);
      if (strides.size() != buf->shape.size())
        fail(c.args[1]->range, "StridedTensor has " + std::to_string(buf->shape.size()) + " shape entries but " +
                                   std::to_string(strides.size()) + " strides");
      for (const auto* s : strides) buf->strides.push_back(shapeEntry(*s));
      buf->dtype = dtypeArg(*c.args[2]);
    } else {
      buf->dtype = dtypeArg(*c.args[1]);
    }
    for (const auto& kw : c.kwargs) {
      if (kind == "Buffer" && kw.name == "scope") {
        if (kw.value->kind != ast::ExprKind::StringLit || kw.value->as<ast::StringLit>().value != "global")
          fail(kw.value->range, "a kernel parameter must be in global memory (scope=\"global\")");
      } else if (kind == "Buffer" && kw.name == "strides") {
        buf->strides.clear();
        for (const auto* s : tupleItems(*kw.value)) buf->strides.push_back(shapeEntry(*s));
        if (buf->strides.size() != buf->shape.size()) fail(kw.value->range, "strides must have one entry per dimension");
      } else if (kind == "Buffer" && (kw.name == "elem_offset" || kw.name == "align")) {
        fail(kw.nameRange, "not yet supported: Buffer(" + kw.name + "=...) on a kernel parameter");
      } else {
        fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + kind +
                               (kind == "Buffer" ? "; valid: scope, strides, elem_offset, align" : "; it takes none"));
      }
    }
    if (buf->strides.empty()) buf->strides = rowMajorStrides(buf->shape);
    kernel_->params[pointerIndex].elementType = buf->dtype;
    Value v;
    v.kind = Value::BufferV;
    v.buffer = buf;
    define(p.name, v, p.nameRange);
  }

  static std::vector<ExprRef> rowMajorStrides(const std::vector<ExprRef>& shape) {
    std::vector<ExprRef> strides(shape.size());
    ExprRef acc = intImm(1);
    for (size_t i = shape.size(); i-- > 0;) {
      strides[i] = acc;
      acc = mul(acc, shape[i]);
    }
    return strides;
  }

  StmtRef analyzeLaunch(const ast::With& w) {
    if (w.context->kind != ast::ExprKind::Call || calleeName(w.context->as<ast::Call>()) != "Kernel")
      fail(w.context->range, "expected 'with Kernel(grid..., threads=N) as (bx, ...)'");
    const auto& c = w.context->as<ast::Call>();
    if (c.args.empty() || c.args.size() > 3) fail(c.range, "Kernel takes 1 to 3 grid extents");
    for (int i = 0; i < 3; ++i) kernel_->grid[i] = intImm(1);
    for (size_t i = 0; i < c.args.size(); ++i) {
      ExprRef g = scalarExpr(*c.args[i]);
      if (!isInt(g->dtype)) fail(c.args[i]->range, "a grid extent must be an integer");
      kernel_->grid[i] = cast(DType::Int32, g);
    }
    bool haveThreads = false;
    for (const auto& kw : c.kwargs) {
      if (kw.name == "threads") {
        auto t = constIntArg(*kw.value, "threads");
        if (t < 1 || t > 1024) fail(kw.value->range, "threads must be between 1 and 1024, not " + std::to_string(t));
        kernel_->threads = (int)t;
        haveThreads = true;
      } else if (kw.name == "cluster_dims") {
        auto items = tupleItems(*kw.value);
        if (items.size() != 3) fail(kw.value->range, "cluster_dims takes three extents (CX, CY, CZ)");
        for (int i = 0; i < 3; ++i) kernel_->clusterDims[i] = (int)constIntArg(*items[i], "cluster_dims");
        if (kernel_->clusterDims[0] * kernel_->clusterDims[1] * kernel_->clusterDims[2] != 1)
          fail(kw.nameRange, "not yet supported: thread block clusters (cluster_dims)");
      } else {
        fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for Kernel; valid: threads, cluster_dims");
      }
    }
    if (!haveThreads) fail(c.range, "Kernel needs threads=N (the block size)");
    threads_ = kernel_->threads;
    if (w.bindings.size() > c.args.size())
      fail(w.bindings[c.args.size()].range, "Kernel has " + std::to_string(c.args.size()) + " grid extents but " +
                                                std::to_string(w.bindings.size()) + " block indices are bound");
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

  int64_t constIntArg(const ast::Expr& e, const std::string& what) {
    ExprRef v = scalarExpr(e);
    auto c = asConstInt(v);
    if (!c) fail(e.range, what + " must be a compile-time integer");
    return *c;
  }

  // ----------------------------------------------------------- statements

  StmtRef block(const ast::Block& b, bool newScope = true) {
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

  StmtRef stmt(const ast::Stmt& s) {
    switch (s.kind) {
      case ast::StmtKind::Block: return block(s.as<ast::Block>());
      case ast::StmtKind::Assign: return assign(s.as<ast::Assign>());
      case ast::StmtKind::Expr: return exprStmt(s.as<ast::ExprStmt>());
      case ast::StmtKind::For: return forStmt(s.as<ast::For>());
      case ast::StmtKind::If: {
        const auto& i = s.as<ast::If>();
        ExprRef c = condition(*i.cond);
        auto t = block(*i.thenBody);
        StmtRef e = i.elseBody ? block(*i.elseBody) : nullptr;
        return std::make_shared<IfStmt>(s.range, c, t, e);
      }
      case ast::StmtKind::With: fail(s.range, "'with' is only allowed once, at the top of a kernel");
    }
    return nullptr;
  }

  ExprRef condition(const ast::Expr& e) {
    ExprRef c = scalarExpr(e);
    if (c->dtype == DType::Bool) return c;
    if (isInt(c->dtype)) return binary(BinOp::Ne, c, intImm(0, c->dtype));
    fail(e.range, std::string("a condition must be a bool or an integer, not ") + name(c->dtype));
  }

  static BinOp binOpOf(ast::AssignOp op) {
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

  ExprRef arith(BinOp op, ExprRef a, ExprRef b, SourceRange opRange) {
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
      for (int64_t i = 0; i < *e; ++i) acc = mul(acc, a);
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
    return binary(op, a, b);
  }

  StmtRef assign(const ast::Assign& a) {
    if (a.target->kind == ast::ExprKind::Name) {
      const std::string& n = a.target->as<ast::Name>().name;
      if (a.op == ast::AssignOp::Set && a.value->kind == ast::ExprKind::Call) {
        const auto& c = a.value->as<ast::Call>();
        std::string callee = calleeName(c);
        bool allocates = callee == "alloc_shared" || callee == "alloc_fragment" || callee == "alloc_local";
        bool views = callee == "make_tensor" || callee == "Tensor.from_ptr";
        if (allocates || views) {
          try {
            return allocates ? allocation(n, a, c, callee) : makeTensor(n, a, c, callee);
          } catch (Failed&) {
            // Later uses of the name stay quiet instead of cascading.
            if (!scopes_.back().count(n)) define(n, Value{}, a.target->range);
            throw;
          }
        }
        if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
      }
      const Value* existing = lookup(n);
      if (existing && existing->kind == Value::None) throw Failed{};  // its declaration already failed
      if (!existing) {
        if (a.op != ast::AssignOp::Set) fail(a.target->range, "use of undeclared name '" + n + "'");
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
        diags_.error(a.target->range, "cannot assign to '" + n + "': it is " + describe(*existing));
        noteDecl(n, existing->decl);
        throw Failed{};
      }
      ExprRef v = scalarExpr(*a.value);
      if (a.op != ast::AssignOp::Set) v = arith(binOpOf(a.op), existing->var, v, a.opRange);
      return std::make_shared<AssignStmt>(a.range, existing->var, cast(existing->var->dtype, v));
    }
    if (a.target->kind == ast::ExprKind::Index) {
      const auto& ix = a.target->as<ast::Index>();
      BufferRef buf = bufferOf(*ix.base);
      auto indices = elementIndices(ix, buf);
      ExprRef v = scalarExpr(*a.value);
      if (a.op != ast::AssignOp::Set) {
        auto load = std::make_shared<LoadNode>(buf, indices, buf->dtype, 1);
        ExprRef current = load;
        if (isStorageOnly(buf->dtype)) fail(a.opRange, std::string("no arithmetic on ") + name(buf->dtype));
        v = arith(binOpOf(a.op), current, v, a.opRange);
      }
      if (v->dtype == DType::Handle) fail(a.value->range, "a pointer cannot be stored in a buffer");
      checkStoreScope(buf, a.target->range);
      return std::make_shared<StoreStmt>(a.range, buf, indices, cast(buf->dtype, v));
    }
    fail(a.target->range, "cannot assign to this expression; assign to a name or to an element A[i, j]");
  }

  void checkStoreScope(const BufferRef& buf, SourceRange r) {
    if (buf->scope == MemScope::Fragment && !inParallel_)
      fail(r, "element '" + buf->name + "[...]' of a fragment can only be written inside a Parallel loop; use fill() or copy() outside one");
  }

  std::string describe(const Value& v) {
    switch (v.kind) {
      case Value::ConstInt: case Value::ConstFloat: return "a const";
      case Value::DTypeName: return "a dtype";
      case Value::Scalar: return "a parameter or loop variable";
      case Value::Mutable: return "a local";
      case Value::BufferV: return "a buffer";
      case Value::Pointer: return "a pointer";
      case Value::None: break;
    }
    return "not a value";
  }

  std::vector<ExprRef> constShape(const ast::Expr& e) {
    std::vector<ExprRef> shape;
    for (const auto* s : tupleItems(e)) {
      ExprRef v = scalarExpr(*s);
      auto c = asConstInt(v);
      if (!c) fail(s->range, "the shape of an allocation must be a compile-time constant");
      if (*c <= 0) fail(s->range, "shape entries must be positive, not " + std::to_string(*c));
      shape.push_back(intImm(*c));
    }
    if (shape.empty()) fail(e.range, "an allocation needs at least one dimension");
    return shape;
  }

  StmtRef allocation(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
    if (c.args.size() != 2) fail(c.range, callee + " takes (shape, dtype)");
    auto buf = std::make_shared<Buffer>();
    buf->name = n;
    buf->shape = constShape(*c.args[0]);
    buf->strides = rowMajorStrides(buf->shape);
    buf->dtype = dtypeArg(*c.args[1]);
    buf->scope = callee == "alloc_shared" ? MemScope::Shared : callee == "alloc_fragment" ? MemScope::Fragment : MemScope::Local;
    buf->declRange = a.target->range;
    for (const auto& kw : c.kwargs) {
      if (callee == "alloc_shared" && kw.name == "scope") {
        std::string s = kw.value->kind == ast::ExprKind::StringLit ? kw.value->as<ast::StringLit>().value : "";
        if (s != "shared" && s != "shared.dyn") fail(kw.value->range, "alloc_shared scope must be \"shared.dyn\" or \"shared\"");
      } else {
        fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + callee +
                               (callee == "alloc_shared" ? "; valid: scope" : "; it takes none"));
      }
    }
    if (buf->dtype == DType::Float4E2M1) fail(c.args[1]->range, "not yet supported: float4_e2m1fn tiles");
    int64_t numel = 1;
    for (const auto& s : buf->shape) numel *= *asConstInt(s);
    if (buf->scope == MemScope::Shared && numel * bits(buf->dtype) / 8 > 227 * 1024)
      fail(c.range, "shared tile '" + n + "' needs " + std::to_string(numel * bits(buf->dtype) / 8) +
                        " bytes; a block has at most 232448 bytes of shared memory");
    if (buf->scope == MemScope::Local && numel > 4096)
      fail(c.range, "local buffer '" + n + "' has " + std::to_string(numel) + " elements; at most 4096 fit a thread");
    kernel_->allocations.push_back(buf);
    Value v;
    v.kind = Value::BufferV;
    v.buffer = buf;
    define(n, v, a.target->range);
    return nullptr;
  }

  StmtRef makeTensor(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
    if (c.args.size() < 2 || c.args.size() > 4) fail(c.range, callee + " takes (pointer, shape[, dtype[, strides]])");
    const Value* p = c.args[0]->kind == ast::ExprKind::Name ? lookup(c.args[0]->as<ast::Name>().name) : nullptr;
    if (!p || p->kind != Value::Pointer) fail(c.args[0]->range, callee + " needs a ptr(...) parameter as its first argument");
    auto buf = std::make_shared<Buffer>();
    buf->name = n;
    buf->scope = MemScope::Global;
    buf->data = p->var;
    buf->declRange = a.target->range;
    buf->dtype = c.args.size() >= 3 ? dtypeArg(*c.args[2]) : p->dtype;
    if (buf->dtype != p->dtype)
      fail(c.args[2]->range, std::string("the pointer is declared as ptr(") + name(p->dtype) + ") but viewed as " + name(buf->dtype));
    for (const auto* s : tupleItems(*c.args[1])) {
      ExprRef e = scalarExpr(*s);
      if (!isInt(e->dtype)) fail(s->range, "a shape entry must be an integer");
      buf->shape.push_back(cast(DType::Int32, e));
    }
    const ast::Expr* strides = c.args.size() == 4 ? c.args[3].get() : nullptr;
    for (const auto& kw : c.kwargs) {
      if (kw.name == "strides") strides = kw.value.get();
      else fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + callee + "; valid: strides");
    }
    if (strides) {
      for (const auto* s : tupleItems(*strides)) buf->strides.push_back(cast(DType::Int32, scalarExpr(*s)));
      if (buf->strides.size() != buf->shape.size()) fail(strides->range, "strides must have one entry per dimension");
    } else {
      buf->strides = rowMajorStrides(buf->shape);
    }
    Value v;
    v.kind = Value::BufferV;
    v.buffer = buf;
    define(n, v, a.target->range);
    return nullptr;
  }

  StmtRef forStmt(const ast::For& f) {
    if (f.iter->kind != ast::ExprKind::Call) fail(f.iter->range, "expected Parallel(...), Pipelined(...), serial(...) or range(...)");
    const auto& c = f.iter->as<ast::Call>();
    std::string kind = calleeName(c);
    if (kind == "Parallel") return parallel(f, c);
    if (kind != "serial" && kind != "range" && kind != "Pipelined")
      fail(c.callee->range, "unknown loop kind '" + kind + "'; expected Parallel, Pipelined, serial or range");
    if (f.vars.size() != 1) fail(f.vars[1].range, "a " + kind + " loop binds one variable");
    ExprRef mn = intImm(0), ext, step;
    int stages = 0;
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
      if (args.size() != 1) fail(c.range, kind + " takes one extent");
      ext = args[0];
    }
    for (const auto& kw : c.kwargs) {
      if (kind == "Pipelined" && kw.name == "num_stages") {
        auto s = constIntArg(*kw.value, "num_stages");
        if (s < 0 || s > 16) fail(kw.value->range, "num_stages must be between 0 and 16");
        stages = (int)s;
      } else if (kind == "Pipelined" && (kw.name == "order" || kw.name == "stage" || kw.name == "group")) {
        fail(kw.nameRange, "not yet supported: Pipelined(" + kw.name + "=...)");
      } else {
        fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + kind +
                               (kind == "Pipelined" ? "; valid: num_stages" : "; it takes none"));
      }
    }
    if (kind == "Pipelined")
      diags_.warning(c.callee->range, "Pipelined runs as a serial loop in this version: loads are not yet issued ahead (num_stages ignored)");
    auto var = makeVar(uniqueName(f.vars[0].name), DType::Int32);
    scopes_.emplace_back();
    Value v;
    v.kind = Value::Scalar;
    v.expr = var;
    define(f.vars[0].name, v, f.vars[0].range);
    auto body = block(*f.body, false);
    scopes_.pop_back();
    auto loop = std::make_shared<ForStmt>(f.range, var, mn, ext, kind == "Pipelined" ? ForKind::Pipelined : ForKind::Serial, body);
    loop->step = step;
    loop->stages = stages;
    return loop;
  }

  StmtRef parallel(const ast::For& f, const ast::Call& c) {
    if (inParallel_) fail(c.callee->range, "not yet supported: a Parallel loop inside another Parallel loop");
    if (c.args.size() != f.vars.size())
      fail(c.range, "Parallel has " + std::to_string(c.args.size()) + " extents but the loop binds " +
                        std::to_string(f.vars.size()) + " variables");
    std::vector<int64_t> extents;
    for (const auto& a : c.args) {
      auto e = constIntArg(*a, "a Parallel extent");
      if (e <= 0) fail(a->range, "a Parallel extent must be positive");
      extents.push_back(e);
    }
    for (const auto& kw : c.kwargs) {
      if (kw.name == "loop_layout") fail(kw.nameRange, "not yet supported: loop_layout");
      fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for Parallel; valid: loop_layout");
    }
    scopes_.emplace_back();
    std::vector<VarRef> vars;
    for (const auto& v : f.vars) {
      auto var = makeVar(uniqueName(v.name), DType::Int32);
      vars.push_back(var);
      Value val;
      val.kind = Value::Scalar;
      val.expr = var;
      define(v.name, val, v.range);
    }
    inParallel_ = true;
    StmtRef body;
    try {
      body = block(*f.body, false);
    } catch (Failed&) {
      inParallel_ = false;
      scopes_.pop_back();
      throw;
    }
    inParallel_ = false;
    scopes_.pop_back();
    return std::make_shared<ParallelOp>(f.range, vars, extents, body);
  }

  // ------------------------------------------------------- call statements

  StmtRef exprStmt(const ast::ExprStmt& s) {
    if (s.expr->kind != ast::ExprKind::Call) fail(s.range, "this expression has no effect; a statement must be a call or an assignment");
    const auto& c = s.expr->as<ast::Call>();
    std::string callee = calleeName(c);
    if (callee == "copy") return copyOp(c);
    if (callee == "fill" || callee == "clear") return fillOp(c, callee);
    if (callee == "sync_threads" || callee == "fence_proxy_async") {
      if (!c.args.empty() || !c.kwargs.empty()) fail(c.range, callee + "() takes no arguments");
      if (inParallel_) fail(c.range, callee + "() cannot be called inside a Parallel loop");
      return std::make_shared<BarrierStmt>(c.range, callee == "sync_threads" ? BarrierKind::SyncThreads : BarrierKind::FenceProxyAsync);
    }
    if (auto m = macros_.find(callee); m != macros_.end()) return inlineMacro(c, *m->second.decl);
    if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
    if (isPureBuiltin(callee)) fail(c.range, "the result of '" + callee + "' is unused");
    fail(c.callee->range, "unknown function '" + callee + "'");
  }

  static bool isPureBuiltin(const std::string& n) {
    static const std::set<std::string> pure = {"ceildiv", "min", "max", "abs", "exp", "exp2", "log", "log2", "sqrt",
                                               "rsqrt", "tanh", "cast", "if_then_else", "get_thread_binding"};
    return pure.count(n) != 0;
  }

  StmtRef inlineMacro(const ast::Call& c, const ast::FunctionDecl& m) {
    if (macroDepth_ >= 32) fail(c.range, "macro '" + m.name + "' expands too deeply (recursive macros are not allowed)");
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
        diags_.error(c.range, "missing argument '" + m.params[i].name + "' in call to macro '" + m.name + "'");
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
    if (diags_.hasErrors()) diags_.note(c.range, "in the expansion of macro '" + m.name + "' here");
    return body;
  }

  Value macroArgument(const ast::Param& p, const ast::Expr& arg, const ast::FunctionDecl& m) {
    const ast::Expr& t = *p.type;
    Value v;
    v.decl = p.nameRange;
    if (t.kind == ast::ExprKind::Name) {
      DType dt = dtypeArg(t);
      ExprRef e = scalarExpr(arg);
      if (e->dtype == DType::Handle) fail(arg.range, "a pointer cannot be passed as a scalar");
      v.kind = Value::Scalar;
      v.expr = cast(dt, e);
      return v;
    }
    if (t.kind != ast::ExprKind::Call) fail(t.range, "expected a parameter type");
    const auto& c = t.as<ast::Call>();
    std::string kind = calleeName(c);
    static const std::map<std::string, std::optional<MemScope>> kinds = {
        {"Tensor", MemScope::Global},         {"StridedTensor", MemScope::Global},
        {"SharedBuffer", MemScope::Shared},   {"FragmentBuffer", MemScope::Fragment},
        {"LocalBuffer", MemScope::Local},     {"Buffer", std::nullopt}};
    auto k = kinds.find(kind);
    if (k == kinds.end()) fail(c.callee->range, "unknown macro parameter type '" + kind + "'");
    BufferRef buf = bufferOf(arg);
    std::optional<MemScope> want = k->second;
    if (kind == "Buffer") {
      for (const auto& kw : c.kwargs)
        if (kw.name == "scope") {
          std::string s = kw.value->kind == ast::ExprKind::StringLit ? kw.value->as<ast::StringLit>().value : "";
          if (s == "global") want = MemScope::Global;
          else if (s == "shared" || s == "shared.dyn") want = MemScope::Shared;
          else if (s == "local.fragment") want = MemScope::Fragment;
          else if (s == "local") want = MemScope::Local;
          else fail(kw.value->range, "unknown scope \"" + s + "\"; valid: global, shared.dyn, shared, local.fragment, local");
        }
    }
    if (want && *want != buf->scope) {
      diags_.error(arg.range, "macro parameter '" + p.name + "' is " + kind + " (" + name(*want) + ") but '" + buf->name +
                                  "' is " + name(buf->scope));
      noteDecl(buf->name, buf->declRange);
      throw Failed{};
    }
    // Dtype and constant shape entries must match.
    if (!c.args.empty()) {
      auto items = tupleItems(*c.args[0]);
      if (items.size() != buf->shape.size())
        fail(arg.range, "macro parameter '" + p.name + "' has rank " + std::to_string(items.size()) + " but '" + buf->name +
                            "' has rank " + std::to_string(buf->shape.size()));
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i]->kind == ast::ExprKind::Name && !globals_.count(items[i]->as<ast::Name>().name)) continue;
        Value s = evalConst(*items[i]);
        auto actual = asConstInt(buf->shape[i]);
        if (s.kind == Value::ConstInt && actual && *actual != s.intValue)
          fail(arg.range, "macro parameter '" + p.name + "' expects extent " + std::to_string(s.intValue) + " in dimension " +
                              std::to_string(i) + " but '" + buf->name + "' has " + std::to_string(*actual));
      }
      size_t dtypeIndex = kind == "StridedTensor" ? 2 : 1;
      if (c.args.size() > dtypeIndex) {
        DType dt = dtypeArg(*c.args[dtypeIndex]);
        if (dt != buf->dtype)
          fail(arg.range, "macro parameter '" + p.name + "' expects " + name(dt) + " but '" + buf->name + "' is " + name(buf->dtype));
      }
    }
    (void)m;
    v.kind = Value::BufferV;
    v.buffer = buf;
    return v;
  }

  BufferRef bufferOf(const ast::Expr& e) {
    if (e.kind != ast::ExprKind::Name) fail(e.range, "expected a buffer name");
    const auto& n = e.as<ast::Name>().name;
    const Value* v = lookup(n);
    if (!v) fail(e.range, "use of undeclared name '" + n + "'");
    if (v->kind == Value::None) throw Failed{};  // its declaration already failed
    if (v->kind != Value::BufferV) {
      diags_.error(e.range, "'" + n + "' is " + describe(*v) + ", not a buffer");
      noteDecl(n, v->decl);
      throw Failed{};
    }
    return v->buffer;
  }

  std::vector<ExprRef> elementIndices(const ast::Index& ix, const BufferRef& buf) {
    if (ix.items.size() != buf->shape.size())
      fail(ix.range, "'" + buf->name + "' has " + std::to_string(buf->shape.size()) + " dimensions but " +
                         std::to_string(ix.items.size()) + " indices are given");
    std::vector<ExprRef> out;
    for (const auto& item : ix.items) {
      if (item.isSlice) fail(item.range, "a slice is not allowed here; slices name regions in copy() and fill()");
      ExprRef e = scalarExpr(*item.value);
      if (!isInt(e->dtype)) fail(item.range, "an index must be an integer");
      out.push_back(cast(DType::Int32, e));
    }
    return out;
  }

  // ------------------------------------------------------------- regions

  RegionSpec regionSpec(const ast::Expr& e) {
    RegionSpec r;
    r.range = e.range;
    if (e.kind == ast::ExprKind::Name) {
      r.buffer = bufferOf(e);
      for (const auto& s : r.buffer->shape) {
        r.mins.push_back(intImm(0));
        r.extents.push_back(asConstInt(s));
      }
      return r;
    }
    if (e.kind != ast::ExprKind::Index) fail(e.range, "expected a buffer, a region A[a:b, ...] or an element A[i, ...]");
    const auto& ix = e.as<ast::Index>();
    r.buffer = bufferOf(*ix.base);
    if (ix.items.size() != r.buffer->shape.size())
      fail(ix.range, "'" + r.buffer->name + "' has " + std::to_string(r.buffer->shape.size()) + " dimensions but " +
                         std::to_string(ix.items.size()) + " indices are given");
    bool anySlice = false;
    for (size_t i = 0; i < ix.items.size(); ++i) {
      const auto& item = ix.items[i];
      if (!item.isSlice) {
        ExprRef v = scalarExpr(*item.value);
        if (!isInt(v->dtype)) fail(item.range, "an index must be an integer");
        r.mins.push_back(cast(DType::Int32, v));
        r.extents.push_back(1);
        continue;
      }
      anySlice = true;
      ExprRef lo = item.lo ? cast(DType::Int32, scalarExpr(*item.lo)) : intImm(0);
      ExprRef hi = item.hi ? cast(DType::Int32, scalarExpr(*item.hi)) : r.buffer->shape[i];
      auto ext = constantDifference(hi, lo);
      if (ext && *ext <= 0) fail(item.range, "empty slice: its extent is " + std::to_string(*ext));
      r.mins.push_back(lo);
      r.extents.push_back(ext);
    }
    r.isHead = !anySlice;
    return r;
  }

  // The documented rule: right-align, drop unit dimensions, remaining extents equal.
  // A head address takes its extents from the other side, padded with leading 1s.
  std::pair<Region, Region> settleRegions(RegionSpec src, RegionSpec dst, SourceRange callRange) {
    auto known = [](const RegionSpec& r) {
      for (const auto& e : r.extents) if (!e) return false;
      return true;
    };
    auto headFrom = [&](RegionSpec& head, const RegionSpec& other) {
      if (!known(other))
        fail(other.range, "cannot deduce the copy's extents: '" + other.buffer->name +
                              "' has a dimension whose extent is not a compile-time constant; give a slice with a constant extent");
      size_t rank = head.mins.size(), otherRank = other.extents.size();
      std::vector<std::optional<int64_t>> ext(rank, int64_t(1));
      // Right-align the other side's extents; extra leading ones must be unit.
      for (size_t i = 0; i < otherRank; ++i) {
        int64_t e = *other.extents[otherRank - 1 - i];
        if (i < rank) ext[rank - 1 - i] = e;
        else if (e != 1)
          fail(head.range, "cannot use '" + head.buffer->name + "[...]' (rank " + std::to_string(rank) +
                               ") as the head of a region with extents " + extentsText(constExtents(other)) +
                               "; give '" + head.buffer->name + "' a slice instead");
      }
      head.extents = ext;
    };
    if (src.isHead && dst.isHead) {
      for (auto& e : src.extents) e = 1;
      for (auto& e : dst.extents) e = 1;
    } else if (src.isHead) {
      headFrom(src, dst);
    } else if (dst.isHead) {
      headFrom(dst, src);
    }
    for (auto* r : {&src, &dst})
      if (!known(*r))
        fail(r->range, "cannot deduce the copy's extents: a dimension of '" + r->buffer->name +
                           "' has no compile-time extent; slice it with a constant extent or use an element as head address");
    auto se = constExtents(src), de = constExtents(dst);
    std::vector<int64_t> sn, dn;
    for (auto e : se) if (e != 1) sn.push_back(e);
    for (auto e : de) if (e != 1) dn.push_back(e);
    if (sn != dn)
      fail(callRange, "copy extents do not match: source " + extentsText(se) + ", destination " + extentsText(de) +
                          " (after dropping unit dimensions: " + extentsText(sn) + " vs " + extentsText(dn) + ")");
    // Static bounds: a region provably outside a buffer of constant shape.
    for (auto* r : {&src, &dst}) {
      for (size_t i = 0; i < r->mins.size(); ++i) {
        auto lo = asConstInt(r->mins[i]);
        auto dim = asConstInt(r->buffer->shape[i]);
        int64_t e = *r->extents[i];
        if (lo && dim && (*lo < 0 || *lo + e > *dim) && r->buffer->scope != MemScope::Global)
          fail(r->range, "region [" + std::to_string(*lo) + ", " + std::to_string(*lo + e) + ") of dimension " +
                             std::to_string(i) + " is outside '" + r->buffer->name + "' (extent " + std::to_string(*dim) + ")");
      }
    }
    return {toRegion(src), toRegion(dst)};
  }
  static std::vector<int64_t> constExtents(const RegionSpec& r) {
    std::vector<int64_t> out;
    for (const auto& e : r.extents) out.push_back(e ? *e : -1);
    return out;
  }
  static Region toRegion(const RegionSpec& s) {
    Region r;
    r.buffer = s.buffer;
    r.mins = s.mins;
    for (const auto& e : s.extents) r.extents.push_back(*e);
    r.range = s.range;
    return r;
  }

  std::string stringArg(const ast::Expr& e, const std::string& what, const std::vector<std::string>& valid) {
    if (e.kind == ast::ExprKind::StringLit) {
      const auto& s = e.as<ast::StringLit>().value;
      if (std::find(valid.begin(), valid.end(), s) != valid.end()) return s;
      fail(e.range, "invalid " + what + " \"" + s + "\"; valid: \"" + joinedQuoted(valid));
    }
    fail(e.range, what + " must be a string; valid: \"" + joinedQuoted(valid));
  }
  static std::string joinedQuoted(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "\", \"" : "") + v[i];
    return s + "\"";
  }
  bool boolArg(const ast::Expr& e, const std::string& what) {
    ExprRef v = scalarExpr(e);
    auto c = asConstInt(v);
    if (!c) fail(e.range, what + " must be a compile-time bool");
    return *c != 0;
  }

  void copyOption(CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange, bool fromAnnotations) {
    if (key == "coalesced_width") {
      auto w = constIntArg(value, "coalesced_width");
      if (w != 1 && w != 2 && w != 4 && w != 8 && w != 16)
        fail(value.range, "invalid coalesced_width " + std::to_string(w) + "; valid: 1, 2, 4, 8, 16 (elements per access)");
      o.coalescedWidth = (int)w;
    } else if (key == "disable_tma") {
      o.disableTma = boolArg(value, "disable_tma");
    } else if (key == "eviction_policy") {
      auto s = stringArg(value, "eviction_policy", {"evict_normal", "evict_first", "evict_last"});
      o.eviction = s == "evict_first" ? EvictionPolicy::First : s == "evict_last" ? EvictionPolicy::Last : EvictionPolicy::Normal;
    } else if (key == "prefer_instruction") {
      auto s = stringArg(value, "prefer_instruction", {"tma", "cp_async", "sync"});
      if (s != "sync") fail(value.range, "not yet supported: prefer_instruction=\"" + s + "\" (this version lowers copies to SIMT loops)");
      o.prefer = PreferInstruction::Sync;
    } else if (key == "loop_layout") {
      fail(keyRange, "not yet supported: loop_layout");
    } else if (key == "annotations" && !fromAnnotations) {
      if (value.kind != ast::ExprKind::Dict) fail(value.range, "annotations must be a dict {\"key\": value, ...}");
    } else {
      fail(keyRange, "unknown keyword argument '" + key + "' for copy; valid: coalesced_width, disable_tma, eviction_policy, "
                     "prefer_instruction, annotations, loop_layout");
    }
  }

  StmtRef copyOp(const ast::Call& c) {
    if (c.args.size() != 2) fail(c.range, "copy takes (src, dst) and keyword arguments");
    if (inParallel_) fail(c.callee->range, "copy() cannot be called inside a Parallel loop; assign elements instead");
    RegionSpec src = regionSpec(*c.args[0]);
    RegionSpec dst = regionSpec(*c.args[1]);
    if (src.buffer->dtype == DType::Float4E2M1 || dst.buffer->dtype == DType::Float4E2M1)
      fail(c.range, "not yet supported: copies of float4_e2m1fn");
    CopyOptions options;
    const ast::Dict* annotations = nullptr;
    for (const auto& kw : c.kwargs) {
      copyOption(options, kw.name, *kw.value, kw.nameRange, false);
      if (kw.name == "annotations") annotations = &kw.value->as<ast::Dict>();
    }
    // annotations={...} win over the keyword arguments.
    if (annotations) {
      for (const auto& entry : annotations->entries) {
        if (entry.key->kind != ast::ExprKind::StringLit) fail(entry.key->range, "annotation keys must be strings");
        copyOption(options, entry.key->as<ast::StringLit>().value, *entry.value, entry.key->range, true);
      }
    }
    auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
    if (d.buffer->scope == MemScope::Fragment || s.buffer->scope == MemScope::Fragment) {
      // A fragment side must be the whole fragment: its layout spreads the whole tile.
      for (auto* r : {&s, &d}) {
        if (r->buffer->scope != MemScope::Fragment) continue;
        for (size_t i = 0; i < r->extents.size(); ++i)
          if (r->extents[i] != *asConstInt(r->buffer->shape[i]))
            fail(r->range, "not yet supported: a copy of part of fragment '" + r->buffer->name + "'; copy the whole fragment");
      }
    }
    auto op = std::make_shared<CopyOp>(c.range, s, d);
    op->options = options;
    return op;
  }

  StmtRef fillOp(const ast::Call& c, const std::string& callee) {
    size_t want = callee == "fill" ? 2 : 1;
    if (c.args.size() != want) fail(c.range, callee == "fill" ? "fill takes (buffer, value)" : "clear takes (buffer)");
    if (!c.kwargs.empty()) fail(c.kwargs[0].nameRange, callee + " takes no keyword arguments");
    if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
    RegionSpec r = regionSpec(*c.args[0]);
    if (r.isHead) for (auto& e : r.extents) e = 1;
    for (const auto& e : r.extents)
      if (!e) fail(r.range, "cannot " + callee + " a region whose extent is not a compile-time constant");
    ExprRef v = want == 2 ? scalarExpr(*c.args[1]) : intImm(0);
    if (r.buffer->scope == MemScope::Fragment)
      for (size_t i = 0; i < r.extents.size(); ++i)
        if (*r.extents[i] != *asConstInt(r.buffer->shape[i]))
          fail(r.range, "not yet supported: " + callee + " of part of fragment '" + r.buffer->name + "'");
    return std::make_shared<FillOp>(c.range, toRegion(r), cast(r.buffer->dtype, v));
  }

  // ---------------------------------------------------------- expressions

  ExprRef scalarExpr(const ast::Expr& e) {
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
          fail(e.range, "use of undeclared name '" + n + "'");
        }
        switch (v->kind) {
          case Value::ConstInt:
            return intImm(v->intValue, v->intValue > INT32_MAX || v->intValue < INT32_MIN ? DType::Int64 : DType::Int32);
          case Value::ConstFloat: return floatImm(v->floatValue, DType::Float32);
          case Value::Scalar:
          case Value::Mutable: return v->expr;
          default: break;
        }
        diags_.error(e.range, "'" + n + "' is " + describe(*v) + ", not a scalar value");
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
            return unary(UnOp::Neg, a);
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
        BufferRef buf = bufferOf(*ix.base);
        auto indices = elementIndices(ix, buf);
        return std::make_shared<LoadNode>(buf, indices, buf->dtype, 1);
      }
      case ast::ExprKind::Attribute: fail(e.range, "unknown attribute '" + e.as<ast::Attribute>().name + "'");
      case ast::ExprKind::Tuple: fail(e.range, "a tuple is not allowed here");
      case ast::ExprKind::Dict: fail(e.range, "a dict is only allowed as annotations={...}");
      case ast::ExprKind::Lambda: fail(e.range, "a lambda is only allowed in Fragment(...)");
    }
    fail(e.range, "unsupported expression");
  }

  ExprRef toBool(const ExprRef& v, SourceRange r) {
    if (v->dtype == DType::Bool) return v;
    if (isInt(v->dtype)) return binary(BinOp::Ne, v, intImm(0, v->dtype));
    fail(r, std::string("expected a bool, not ") + name(v->dtype));
  }

  ExprRef callExpr(const ast::Call& c) {
    std::string callee = calleeName(c);
    auto argCount = [&](size_t n) {
      if (c.args.size() != n) fail(c.range, "'" + callee + "' takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s"));
    };
    auto noKeywords = [&]() {
      if (!c.kwargs.empty()) fail(c.kwargs[0].nameRange, "'" + callee + "' takes no keyword arguments");
    };
    if (callee == "ceildiv") {
      argCount(2); noKeywords();
      ExprRef a = scalarExpr(*c.args[0]), b = scalarExpr(*c.args[1]);
      if (!isInt(a->dtype) || !isInt(b->dtype)) fail(c.range, "ceildiv needs integer arguments");
      if (auto d = asConstInt(b); d && *d <= 0) fail(c.args[1]->range, "ceildiv needs a positive divisor");
      // -((-a) // b) is exact for every sign of a.
      return unary(UnOp::Neg, floorDiv(unary(UnOp::Neg, a), b));
    }
    if (callee == "min" || callee == "max") {
      argCount(2); noKeywords();
      ExprRef a = scalarExpr(*c.args[0]), b = scalarExpr(*c.args[1]);
      return arith(callee == "min" ? BinOp::Min : BinOp::Max, a, b, c.callee->range);
    }
    static const std::map<std::string, Builtin> math = {
        {"exp", Builtin::Exp},   {"exp2", Builtin::Exp2}, {"log", Builtin::Log},     {"log2", Builtin::Log2},
        {"sqrt", Builtin::Sqrt}, {"rsqrt", Builtin::Rsqrt}, {"tanh", Builtin::Tanh}, {"abs", Builtin::Abs}};
    if (auto m = math.find(callee); m != math.end()) {
      argCount(1); noKeywords();
      ExprRef a = scalarExpr(*c.args[0]);
      if (callee == "abs" && isInt(a->dtype)) return select(lt(a, intImm(0, a->dtype)), unary(UnOp::Neg, a), a);
      if (!isFloat(a->dtype) || isStorageOnly(a->dtype)) {
        if (isInt(a->dtype)) a = cast(DType::Float32, a);
        else fail(c.args[0]->range, "'" + callee + "' needs a float argument");
      }
      return call(m->second, {a}, a->dtype);
    }
    if (callee == "cast") {
      argCount(2); noKeywords();
      ExprRef a = scalarExpr(*c.args[0]);
      DType to = dtypeArg(*c.args[1]);
      if (to == DType::Float4E2M1 || a->dtype == DType::Float4E2M1) fail(c.range, "not yet supported: casts to or from float4_e2m1fn");
      return cast(to, a);
    }
    if (callee == "if_then_else") {
      argCount(3); noKeywords();
      ExprRef cond = toBool(scalarExpr(*c.args[0]), c.args[0]->range);
      return select(cond, scalarExpr(*c.args[1]), scalarExpr(*c.args[2]));
    }
    if (callee == "get_thread_binding") {
      int dim = 0;
      if (c.args.size() > 1) fail(c.range, "get_thread_binding takes an optional dim");
      if (c.args.size() == 1) dim = (int)constIntArg(*c.args[0], "dim");
      for (const auto& kw : c.kwargs) {
        if (kw.name != "dim") fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for get_thread_binding; valid: dim");
        dim = (int)constIntArg(*kw.value, "dim");
      }
      if (dim != 0) fail(c.range, "get_thread_binding(dim=" + std::to_string(dim) + "): blocks are one-dimensional; only dim=0 exists");
      return call(Builtin::ThreadIdx, {}, DType::Int32, 0);
    }
    if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
    if (macros_.count(callee)) fail(c.range, "macro '" + callee + "' has no value; call it as a statement");
    if (callee == "copy" || callee == "fill" || callee == "clear" || callee == "sync_threads" || callee == "fence_proxy_async")
      fail(c.range, "'" + callee + "' has no value; call it as a statement");
    fail(c.callee->range, "unknown function '" + callee + "'");
  }
};

}  // namespace

std::unique_ptr<ir::Module> analyze(const ast::File& file, const SemaOptions& options, DiagnosticEngine& diags) {
  Analyzer analyzer(options, diags);
  return analyzer.runWithDefines(file);
}

}  // namespace tlc
