// Sema: names, consts, types, macros, scopes and regions; builds the tile IR.
//
// The analysis walks each kernel's AST once, with a stack of scopes mapping names
// to Values (a folded constant, a dtype, a scalar expression, a mutable local, a
// buffer, a raw pointer). Macros are inlined at their calls in a fresh scope that
// sees only the file's consts, its own parameters and its own locals. Each side of
// a copy becomes a region (start, extent and access type per axis), settled with
// the rule documented in docs/language.md and implemented in Regions.cpp: a head
// address takes the other side's extents, then the extents, right-aligned with unit
// dimensions dropped, must be equal. Every op checks its keyword arguments and the
// scopes it accepts. Diagnostics are collected and then reported in source order
// (see reportInSourceOrder at the end).
#include "sema/Sema.h"

#include "sema/Regions.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

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
    "tma_copy", "copy_cluster", "transpose", "im2col", "c2d_im2col",
    "tma_gather4", "tma_scatter4", "tma_gather4_bytes", "alloc_barrier", "barrier_arrive",
    "mbarrier_wait_parity", "mbarrier_expect_tx", "shuffle_elect", "tma_store_wait", "tma_store_arrive", "cp_async_gs",
    "cp_async_gs_conditional", "cp_async_shared_global", "tma_descriptor", "tma_load",
    "tma_store", "prefetch_tma_descriptor", "block_rank_in_cluster", "cluster_sync",
    "annotate_layout", "annotate_safe_value", "Fragment", "swizzled", "padded",
};

using sema::extentsText;

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// The spellings of a memory scope, as `scope=` strings take them.
std::optional<MemScope> scopeFromName(const std::string& s) {
  if (s == "global") return MemScope::Global;
  if (s == "shared.dyn" || s == "shared") return MemScope::Shared;
  if (s == "local.fragment") return MemScope::Fragment;
  if (s == "local") return MemScope::Local;
  return std::nullopt;
}
const char* kValidScopes = "\"global\", \"shared.dyn\", \"shared\", \"local.fragment\", \"local\"";

// A side of a copy before its extents are settled.
struct RegionSpec {
  BufferRef buffer;
  std::vector<ExprRef> mins;
  std::vector<std::optional<int64_t>> extents;  // per axis; nullopt = unknown (symbolic)
  bool isHead = false;   // an element `A[i, j]`: extents come from the other side
  bool isWhole = false;  // a bare buffer name: extents come from its declaration
  Access access = Access::Read;
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
  struct Expansion {
    const ast::FunctionDecl* macro;
    SourceRange call;
  };
  std::vector<Expansion> expansions_;  // the macro calls being expanded, outermost first
  bool inParallel_ = false;
  int threads_ = 0;
  std::map<std::string, int> localNames_;  // for unique IR names of shadowing locals

  // ------------------------------------------------------------- utilities

  [[noreturn]] void fail(SourceRange r, const std::string& msg) {
    error(r, msg);
    throw Failed{};
  }
  // Every error and warning goes through here: one inside a macro's body (found
  // while expanding it) gets a note at each call that led to it, innermost first.
  void error(SourceRange r, const std::string& msg) {
    diags_.error(r, msg);
    noteExpansions(r);
  }
  void warning(SourceRange r, const std::string& msg) {
    diags_.warning(r, msg);
    noteExpansions(r);
  }
  void noteExpansions(SourceRange r) {
    auto inside = [&](const ast::FunctionDecl* m) {
      return r.valid() && r.begin.offset >= m->range.begin.offset && r.begin.offset < m->range.end.offset;
    };
    size_t level = expansions_.size();
    while (level > 0 && !inside(expansions_[level - 1].macro)) --level;
    // Innermost first; a deep chain (recursion) shows its two innermost calls and
    // the outermost one.
    for (size_t shown = 0; level > 0; ++shown) {
      const Expansion& e = expansions_[--level];
      std::string text = "in the expansion of macro '" + e.macro->name + "' here";
      if (shown == 2 && level > 0) {
        const Expansion& outer = expansions_.front();
        diags_.note(outer.call, "in the expansion of macro '" + outer.macro->name + "' here (" +
                                    std::to_string(level) + " nested expansions not shown)");
        break;
      }
      diags_.note(e.call, text);
    }
  }
  void noteDecl(const std::string& name, SourceRange decl) {
    if (decl.valid()) diags_.note(decl, "'" + name + "' declared here");
  }

  // Every op checks its keyword names before anything else: an unknown one is an
  // error that lists the valid ones (or says there are none), a repeated one an
  // error with a note at its first use.
  void checkKeywords(const ast::Call& c, const std::string& op, const std::vector<std::string>& valid) {
    for (size_t i = 0; i < c.kwargs.size(); ++i) {
      const auto& kw = c.kwargs[i];
      if (std::find(valid.begin(), valid.end(), kw.name) == valid.end())
        fail(kw.nameRange, "unknown keyword argument '" + kw.name + "' for " + op +
                               (valid.empty() ? "; it takes none" : "; valid: " + joined(valid)));
      for (size_t j = 0; j < i; ++j)
        if (c.kwargs[j].name == kw.name) {
          error(kw.nameRange, "keyword argument '" + kw.name + "' is given twice");
          diags_.note(c.kwargs[j].nameRange, "first given here");
          throw Failed{};
        }
    }
  }
  const ast::Expr* keyword(const ast::Call& c, const std::string& name) const {
    for (const auto& kw : c.kwargs)
      if (kw.name == name) return kw.value.get();
    return nullptr;
  }
  std::string stringValue(const ast::Expr& e, const std::string& what, const std::string& valid) {
    if (e.kind != ast::ExprKind::StringLit) fail(e.range, what + " must be a string; valid: " + valid);
    return e.as<ast::StringLit>().value;
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
      error(r, "redefinition of '" + name + "'");
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
        error(decl->nameRange, "redefinition of '" + decl->name + "'");
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
        error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the file declares no const named '" + d.name + "'");
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
          error(SourceRange{}, "-D " + d.name + "=" + d.value + ": the value must be an integer or a dtype name");
          continue;
        }
        v.kind = Value::ConstInt;
        v.intValue = parsed;
      }
      if ((v.kind == Value::DTypeName) != (it->second.kind == Value::DTypeName)) {
        error(SourceRange{}, "-D " + d.name + "=" + d.value + ": '" + d.name + "' is " +
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
        overflow(x > (INT64_MAX >> y) || x < (INT64_MIN >> y));
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

  // A shape or stride entry of a parameter: a const, or a symbolic dimension.
  // Constant shape entries are positive, constant strides non-negative.
  ExprRef shapeEntry(const ast::Expr& e, bool isStride = false) {
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
    // elem_offset needs lowering's help (the flat index, the alignment facts of the
    // vectorized variants, the TMA base address); ir::Buffer::elemOffset is ready for it.
    for (const auto& kw : c.kwargs)
      if (kw.name == "elem_offset") fail(kw.nameRange, "not yet supported: Buffer(elem_offset=...) on a kernel parameter");
    kernel_->params[pointerIndex].elementType = buf->dtype;
    Value v;
    v.kind = Value::BufferV;
    v.buffer = buf;
    define(p.name, v, p.nameRange);
  }

  // A parameter `n: int32` whose name an earlier shape introduced as a dimension
  // becomes that dimension: one value, passed once, at the scalar's position.
  bool adoptDimAsScalar(const ast::Param& p, const Value& existing) {
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
    for (const auto& kw : c.kwargs) {
      if (kw.name == "threads") {
        auto t = constIntArg(*kw.value, "threads");
        if (t < 1 || t > 1024) fail(kw.value->range, "threads must be between 1 and 1024, not " + std::to_string(t));
        kernel_->threads = (int)t;
        haveThreads = true;
      } else if (kw.name == "cluster_dims") {
        auto items = tupleItems(*kw.value);
        if (items.size() != 3) fail(kw.value->range, "cluster_dims takes three extents (CX, CY, CZ)");
        for (int i = 0; i < 3; ++i) {
          int64_t d = constIntArg(*items[i], "cluster_dims");
          if (d < 1 || d > 16) fail(items[i]->range, "a cluster extent must be between 1 and 16, not " + std::to_string(d));
          kernel_->clusterDims[i] = (int)d;
        }
        if (kernel_->clusterDims[0] * kernel_->clusterDims[1] * kernel_->clusterDims[2] != 1)
          fail(kw.nameRange, "not yet supported: thread block clusters (cluster_dims)");
      }
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
    return checkFits(binary(op, a, b), opRange);
  }

  // Integer operations on constants fold at compile time. A result that does not
  // fit its type, INT64_MIN // -1, or a shift by the operand's width or more is an
  // error, never a silent wrap (or a crash of the folding itself).
  void checkIntegerFold(BinOp op, const ExprRef& a, const ExprRef& b, SourceRange opRange) {
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
  ExprRef checkFits(ExprRef e, SourceRange r) {
    auto v = asConstInt(e);
    if (!v || !isInt(e->dtype)) return e;
    int width = bits(e->dtype);
    bool fits = width >= 64 ? (!isSigned(e->dtype) ? *v >= 0 : true)
                            : isSigned(e->dtype) ? *v >= -(int64_t(1) << (width - 1)) && *v < (int64_t(1) << (width - 1))
                                                 : *v >= 0 && *v < (int64_t(1) << width);
    if (!fits) fail(r, "integer overflow in a constant expression: " + std::to_string(*v) + " does not fit " + name(e->dtype));
    return e;
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
        error(a.target->range, "cannot assign to '" + n + "': it is " + describe(*existing));
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
      if (*c > INT32_MAX) fail(s->range, "a shape entry must fit in int32, not " + std::to_string(*c));
      shape.push_back(intImm(*c));
    }
    if (shape.empty()) fail(e.range, "an allocation needs at least one dimension");
    return shape;
  }

  StmtRef allocation(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
    checkKeywords(c, callee, callee == "alloc_shared" ? std::vector<std::string>{"scope"} : std::vector<std::string>{});
    if (c.args.size() != 2) fail(c.range, callee + " takes (shape, dtype)");
    auto buf = std::make_shared<Buffer>();
    buf->name = n;
    buf->shape = constShape(*c.args[0]);
    buf->strides = rowMajorStrides(buf->shape);
    buf->dtype = dtypeArg(*c.args[1]);
    buf->scope = callee == "alloc_shared" ? MemScope::Shared : callee == "alloc_fragment" ? MemScope::Fragment : MemScope::Local;
    buf->declRange = a.target->range;
    if (const ast::Expr* scope = keyword(c, "scope")) {
      std::string s = stringValue(*scope, "scope", "\"shared.dyn\", \"shared\"");
      if (s != "shared" && s != "shared.dyn")
        fail(scope->range, "invalid scope \"" + s + "\" for alloc_shared; valid: \"shared.dyn\", \"shared\"");
    }
    if (buf->dtype == DType::Float4E2M1) fail(c.args[1]->range, "not yet supported: float4_e2m1fn tiles");
    if (buf->dtype == DType::Handle) fail(c.args[1]->range, "a buffer cannot hold pointers");
    int64_t numel = 1;
    for (const auto& s : buf->shape) {
      if (__builtin_mul_overflow(numel, *asConstInt(s), &numel) || numel > (int64_t(1) << 40))
        fail(c.args[0]->range, "the tile '" + n + "' is too large");
    }
    if (buf->scope == MemScope::Shared && numel * bits(buf->dtype) / 8 > 227 * 1024)
      fail(c.range, "shared tile '" + n + "' needs " + std::to_string(numel * bits(buf->dtype) / 8) +
                        " bytes; a block has at most 232448 bytes of shared memory");
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

  // make_tensor(p, shape, dtype, strides) and Tensor.from_ptr(...): each argument
  // positionally or by keyword (ptr=, shape=, dtype=, strides=), as in TileLang.
  StmtRef makeTensor(const std::string& n, const ast::Assign& a, const ast::Call& c, const std::string& callee) {
    static const std::vector<std::string> names = {"ptr", "shape", "dtype", "strides"};
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
    const Value* p = args[0]->kind == ast::ExprKind::Name ? lookup(args[0]->as<ast::Name>().name) : nullptr;
    if (p && p->kind == Value::None) throw Failed{};  // its declaration already failed
    if (!p || p->kind != Value::Pointer) {
      if (p) {
        error(args[0]->range, callee + " needs a ptr(...) parameter as its first argument; '" +
                                         args[0]->as<ast::Name>().name + "' is " + describe(*p));
        noteDecl(args[0]->as<ast::Name>().name, p->decl);
        throw Failed{};
      }
      fail(args[0]->range, callee + " needs a ptr(...) parameter as its first argument");
    }
    auto buf = std::make_shared<Buffer>();
    buf->name = n;
    buf->scope = MemScope::Global;
    buf->data = p->var;
    buf->declRange = a.target->range;
    buf->dtype = args[2] ? dtypeArg(*args[2]) : p->dtype;
    if (buf->dtype != p->dtype) {
      error(args[2]->range, std::string("the pointer is declared as ptr(") + name(p->dtype) + ") but viewed as " + name(buf->dtype));
      noteDecl(args[0]->as<ast::Name>().name, p->decl);
      throw Failed{};
    }
    auto shape = tupleItems(*args[1]);
    if (shape.empty()) fail(args[1]->range, "a tensor needs at least one dimension");
    for (const auto* s : shape) {
      ExprRef e = scalarExpr(*s);
      if (!isInt(e->dtype)) fail(s->range, "a shape entry must be an integer");
      if (auto k = asConstInt(e); k && (*k <= 0 || *k > INT32_MAX))
        fail(s->range, "a shape entry must be positive and fit in int32, not " + std::to_string(*k));
      buf->shape.push_back(cast(DType::Int32, e));
    }
    if (const ast::Expr* strides = args[3]) {
      auto items = tupleItems(*strides);
      if (items.size() != buf->shape.size())
        fail(strides->range, callee + " has " + std::to_string(buf->shape.size()) + " shape entries but " +
                                 std::to_string(items.size()) + " strides");
      for (const auto* s : items) {
        ExprRef e = scalarExpr(*s);
        if (!isInt(e->dtype)) fail(s->range, "a stride must be an integer");
        if (auto k = asConstInt(e); k && (*k < 0 || *k > INT32_MAX))
          fail(s->range, "a stride must not be negative and must fit in int32, not " + std::to_string(*k));
        buf->strides.push_back(cast(DType::Int32, e));
      }
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
    checkKeywords(c, kind, kind == "Pipelined" ? std::vector<std::string>{"num_stages", "order", "stage", "group"}
                                               : std::vector<std::string>{});
    if (f.vars.size() != 1) fail(f.vars.size() > 1 ? f.vars[1].range : f.range, "a " + kind + " loop binds one variable");
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
      } else {
        fail(kw.nameRange, "not yet supported: Pipelined(" + kw.name + "=...)");
      }
    }
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
    checkKeywords(c, "Parallel", {"loop_layout"});
    if (inParallel_) fail(c.callee->range, "not yet supported: a Parallel loop inside another Parallel loop");
    if (c.args.size() != f.vars.size())
      fail(c.range, "Parallel has " + std::to_string(c.args.size()) + " extent" + (c.args.size() == 1 ? "" : "s") +
                        " but the loop binds " + std::to_string(f.vars.size()) + " variable" + (f.vars.size() == 1 ? "" : "s"));
    std::vector<int64_t> extents;
    int64_t iterations = 1;
    for (const auto& a : c.args) {
      auto e = constIntArg(*a, "a Parallel extent");
      if (e <= 0) fail(a->range, "a Parallel extent must be positive");
      if (__builtin_mul_overflow(iterations, e, &iterations) || iterations > INT32_MAX)
        fail(c.range, "a Parallel loop has at most 2147483647 iterations");
      extents.push_back(e);
    }
    if (extents.empty()) fail(c.range, "Parallel needs at least one extent");
    for (const auto& kw : c.kwargs) fail(kw.nameRange, "not yet supported: loop_layout");
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
    if (callee == "copy" || callee == "async_copy") return copyOp(c, callee);
    if (callee == "cp_async_commit" || callee == "cp_async_wait") return cpAsyncGroup(c, callee);
    if (callee == "fill" || callee == "clear") return fillOp(c, callee);
    if (callee == "sync_threads" || callee == "fence_proxy_async") {
      checkKeywords(c, callee, {});
      if (!c.args.empty()) fail(c.args[0]->range, callee + "() takes no arguments");
      if (inParallel_) fail(c.range, callee + "() cannot be called inside a Parallel loop");
      return std::make_shared<BarrierStmt>(c.range, callee == "sync_threads" ? BarrierKind::SyncThreads : BarrierKind::FenceProxyAsync);
    }
    if (auto m = macros_.find(callee); m != macros_.end()) return inlineMacro(c, *m->second.decl);
    if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
    if (isPureBuiltin(callee)) fail(c.range, "the result of '" + callee + "' is unused");
    if (makesBuffer(callee)) fail(c.range, "'" + callee + "' makes a buffer; give it a name: X = " + callee + "(...)");
    fail(c.callee->range, "unknown function '" + callee + "'");
  }

  static bool makesBuffer(const std::string& n) {
    return n == "alloc_shared" || n == "alloc_fragment" || n == "alloc_local" || n == "make_tensor" || n == "Tensor.from_ptr";
  }
  static bool isPureBuiltin(const std::string& n) {
    static const std::set<std::string> pure = {"ceildiv", "min", "max", "abs", "exp", "exp2", "log", "log2", "sqrt",
                                               "rsqrt", "tanh", "cast", "if_then_else", "get_thread_binding"};
    return pure.count(n) != 0;
  }

  StmtRef inlineMacro(const ast::Call& c, const ast::FunctionDecl& m) {
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

  StmtRef expandMacro(const ast::Call& c, const ast::FunctionDecl& m) {
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
    if (k == kinds.end())
      fail(c.callee->range, "unknown macro parameter type '" + kind +
                                "'; expected Tensor, StridedTensor, SharedBuffer, FragmentBuffer, LocalBuffer, Buffer or a dtype");
    checkKeywords(c, kind, kind == "Buffer" ? std::vector<std::string>{"scope"} : std::vector<std::string>{});
    std::optional<MemScope> want = k->second;
    if (const ast::Expr* scope = keyword(c, "scope")) {
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
    // Dtype and constant shape entries must match.
    if (!c.args.empty()) {
      auto items = tupleItems(*c.args[0]);
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
      size_t dtypeIndex = kind == "StridedTensor" ? 2 : 1;
      if (c.args.size() > dtypeIndex) {
        DType dt = dtypeArg(*c.args[dtypeIndex]);
        if (dt != buf->dtype)
          failAbout(arg.range, "macro parameter '" + p.name + "' expects " + name(dt) + " but '" + buf->name + "' is " +
                                     name(buf->dtype),
                      buf);
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
      error(e.range, "'" + n + "' is " + describe(*v) + ", not a buffer" +
                         (v->kind == Value::Pointer ? "; view it as one with make_tensor(" + n + ", shape, dtype)" : ""));
      noteDecl(n, v->decl);
      throw Failed{};
    }
    return v->buffer;
  }

  // The indices of an element access `A[i, j]`.
  std::vector<ExprRef> elementIndices(const ast::Index& ix, const BufferRef& buf) {
    checkRank(ix, buf);
    if (buf->dtype == DType::Float4E2M1)
      fail(ix.range, "not yet supported: element access to '" + buf->name + "' (float4_e2m1fn is packed two to a byte)");
    std::vector<ExprRef> out;
    for (size_t i = 0; i < ix.items.size(); ++i) {
      const auto& item = ix.items[i];
      if (item.isSlice) fail(item.range, "a slice is not allowed here; slices name regions in copy() and fill()");
      ExprRef e = scalarExpr(*item.value);
      if (!isInt(e->dtype)) fail(item.range, std::string("an index must be an integer, not ") + name(e->dtype));
      if (auto k = asConstInt(e)) checkElementInside(*k, i, buf, item.range);
      out.push_back(cast(DType::Int32, e));
    }
    return out;
  }

  void checkRank(const ast::Index& ix, const BufferRef& buf) {
    if (ix.items.size() == buf->shape.size()) return;
    error(ix.range, "'" + buf->name + "' has " + std::to_string(buf->shape.size()) + " dimension" +
                               (buf->shape.size() == 1 ? "" : "s") + " but " + std::to_string(ix.items.size()) +
                               (ix.items.size() == 1 ? " index is" : " indices are") + " given");
    noteDecl(buf->name, buf->declRange);
    throw Failed{};
  }

  // An error about a buffer, with a note at its declaration.
  [[noreturn]] void failAbout(SourceRange r, const std::string& msg, const BufferRef& buf) {
    error(r, msg);
    noteDecl(buf->name, buf->declRange);
    throw Failed{};
  }

  // A constant index provably outside its axis (constant shape). Element accesses
  // are not predicated, so this holds for global tensors too.
  void checkElementInside(int64_t index, size_t axis, const BufferRef& buf, SourceRange r) {
    auto dim = asConstInt(buf->shape[axis]);
    if (index < 0 || (dim && index >= *dim))
      failAbout(r, "index " + std::to_string(index) + " is outside dimension " + std::to_string(axis) + " of '" +
                         buf->name + "'" + (dim ? " (extent " + std::to_string(*dim) + ")" : " (indices start at 0)"),
                  buf);
  }

  // ------------------------------------------------------------- regions

  RegionSpec regionSpec(const ast::Expr& e, Access access) {
    RegionSpec r;
    r.range = e.range;
    r.access = access;
    if (e.kind == ast::ExprKind::Name) {
      r.buffer = bufferOf(e);
      r.isWhole = true;
      for (const auto& s : r.buffer->shape) {
        r.mins.push_back(intImm(0));
        r.extents.push_back(asConstInt(s));
      }
      return r;
    }
    if (e.kind != ast::ExprKind::Index) fail(e.range, "expected a buffer, a region A[a:b, ...] or an element A[i, ...]");
    const auto& ix = e.as<ast::Index>();
    r.buffer = bufferOf(*ix.base);
    checkRank(ix, r.buffer);
    bool anySlice = false;
    auto index = [&](const ast::Expr& x) {
      ExprRef v = scalarExpr(x);
      if (!isInt(v->dtype)) fail(x.range, std::string("an index must be an integer, not ") + name(v->dtype));
      return cast(DType::Int32, v);
    };
    for (size_t i = 0; i < ix.items.size(); ++i) {
      const auto& item = ix.items[i];
      if (!item.isSlice) {
        r.mins.push_back(index(*item.value));
        r.extents.push_back(1);
        continue;
      }
      anySlice = true;
      ExprRef lo = item.lo ? index(*item.lo) : intImm(0);
      ExprRef hi = item.hi ? index(*item.hi) : r.buffer->shape[i];
      auto ext = constantDifference(hi, lo);
      if (ext && *ext <= 0) fail(item.range, "empty slice: its extent is " + std::to_string(*ext));
      r.mins.push_back(lo);
      r.extents.push_back(ext);
    }
    r.isHead = !anySlice;
    return r;
  }

  static bool extentsKnown(const RegionSpec& r) {
    for (const auto& e : r.extents)
      if (!e) return false;
    return true;
  }

  // A head address takes its extents from the other side (sema::headExtents).
  void headFrom(RegionSpec& head, const RegionSpec& other) {
    if (!extentsKnown(other))
      fail(other.range, "cannot deduce the copy's extents: '" + other.buffer->name +
                            "' has a dimension whose extent is not a compile-time constant; give a slice with a constant extent");
    auto ext = sema::headExtents(head.mins.size(), constExtents(other));
    if (!ext)
      fail(head.range, "cannot use '" + head.buffer->name + "[...]' (rank " + std::to_string(head.mins.size()) +
                           ") as the head of a region with extents " + extentsText(constExtents(other)) + "; give '" +
                           head.buffer->name + "' a slice instead");
    head.extents.assign(ext->begin(), ext->end());
  }

  // The documented rule: right-align, drop unit dimensions, remaining extents equal.
  std::pair<Region, Region> settleRegions(RegionSpec src, RegionSpec dst, SourceRange callRange) {
    if (src.isHead && dst.isHead) {
      for (auto& e : src.extents) e = 1;  // two elements: one store
      for (auto& e : dst.extents) e = 1;
    } else if (src.isHead) {
      headFrom(src, dst);
    } else if (dst.isHead) {
      headFrom(dst, src);
    }
    for (auto* r : {&src, &dst})
      if (!extentsKnown(*r))
        fail(r->range, "cannot deduce the copy's extents: a dimension of '" + r->buffer->name +
                           "' has no compile-time extent; slice it with a constant extent or use an element as head address");
    auto se = constExtents(src), de = constExtents(dst);
    if (!sema::extentsAgree(se, de)) {
      error(callRange, "copy extents do not match: source " + extentsText(se) + ", destination " + extentsText(de) +
                           " (after dropping unit dimensions: " + extentsText(sema::nonUnitExtents(se)) + " vs " +
                           extentsText(sema::nonUnitExtents(de)) + ")");
      // A whole buffer's extents are its declared shape: show where that is.
      for (const auto* r : {&src, &dst})
        if (r->isWhole) noteDecl(r->buffer->name, r->buffer->declRange);
      throw Failed{};
    }
    checkRegionInside(src);
    checkRegionInside(dst);
    return {toRegion(src), toRegion(dst)};
  }

  // A region provably outside its buffer (constant start, constant shape) is an
  // error. A tile (shared, fragment, local) must hold the whole region; a global
  // tensor's region may run past its end (a ragged edge: predicated at run time)
  // but must start inside it. A symbolic start is not checked here.
  void checkRegionInside(const RegionSpec& r) {
    bool tile = r.buffer->scope != MemScope::Global;
    for (size_t i = 0; i < r.mins.size(); ++i) {
      auto lo = asConstInt(r.mins[i]);
      auto dim = asConstInt(r.buffer->shape[i]);
      int64_t e = *r.extents[i];
      auto text = [&](int64_t from) {
        return "region [" + std::to_string(from) + ", " + std::to_string(from + e) + ") of dimension " + std::to_string(i) +
               " is outside '" + r.buffer->name + "'" + (dim ? " (extent " + std::to_string(*dim) + ")" : "");
      };
      if (lo && *lo < 0) failAbout(r.range, text(*lo), r.buffer);
      if (!dim) continue;
      if (lo && (tile ? *lo + e > *dim : *lo >= *dim)) failAbout(r.range, text(*lo), r.buffer);
      if (tile && e > *dim)
        failAbout(r.range, "a region of extent " + std::to_string(e) + " does not fit dimension " + std::to_string(i) +
                                 " of '" + r.buffer->name + "' (extent " + std::to_string(*dim) + ")",
                    r.buffer);
    }
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
    r.access = s.access;
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
    if (!c || (v->dtype != DType::Bool && *c != 0 && *c != 1))
      fail(e.range, what + " must be a compile-time bool; valid: True, False");
    return *c != 0;
  }

  static const std::vector<std::string>& copyKeywords(const std::string& op) {
    static const std::vector<std::string> copy = {"coalesced_width", "disable_tma", "eviction_policy",
                                                  "prefer_instruction", "annotations", "loop_layout"};
    static const std::vector<std::string> async = {"coalesced_width", "annotations", "loop_layout"};
    return op == "async_copy" ? async : copy;
  }

  // One copy option, from a keyword argument or an annotations={...} entry.
  void copyOption(const std::string& op, CopyOptions& o, const std::string& key, const ast::Expr& value, SourceRange keyRange,
                  bool fromAnnotations, SourceRange& preferAt) {
    const auto& keys = copyKeywords(op);
    if (std::find(keys.begin(), keys.end(), key) == keys.end() || (fromAnnotations && key == "annotations")) {
      std::vector<std::string> valid = keys;
      if (fromAnnotations) valid.erase(std::find(valid.begin(), valid.end(), "annotations"));
      fail(keyRange, std::string(fromAnnotations ? "unknown annotation \"" + key + "\"" : "unknown keyword argument '" + key + "'") +
                         " for " + op + "; valid: " + joined(valid));
    }
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
      o.prefer = s == "tma" ? PreferInstruction::Tma : s == "cp_async" ? PreferInstruction::CpAsync : PreferInstruction::Sync;
      preferAt = value.range;
    } else if (key == "loop_layout") {
      fail(keyRange, "not yet supported: loop_layout");
    } else if (key == "annotations") {
      if (value.kind != ast::ExprKind::Dict) fail(value.range, "annotations must be a dict {\"key\": value, ...}");
    }
  }

  // copy(src, dst, ...) and async_copy(src, dst, ...): the same regions and options;
  // async_copy issues cp.async and commits a group without waiting for it.
  StmtRef copyOp(const ast::Call& c, const std::string& op) {
    checkKeywords(c, op, copyKeywords(op));
    if (c.args.size() != 2) fail(c.range, op + " takes (src, dst) and keyword arguments");
    if (inParallel_) fail(c.callee->range, op + "() cannot be called inside a Parallel loop; assign elements instead");
    RegionSpec src = regionSpec(*c.args[0], Access::Read);
    RegionSpec dst = regionSpec(*c.args[1], Access::Write);
    if (src.buffer->dtype == DType::Float4E2M1 || dst.buffer->dtype == DType::Float4E2M1)
      fail(c.range, "not yet supported: copies of float4_e2m1fn");
    CopyOptions options;
    SourceRange preferAt;
    const ast::Dict* annotations = nullptr;
    for (const auto& kw : c.kwargs) {
      copyOption(op, options, kw.name, *kw.value, kw.nameRange, false, preferAt);
      if (kw.name == "annotations") annotations = &kw.value->as<ast::Dict>();
    }
    // annotations={...} win over the keyword arguments.
    if (annotations) {
      std::set<std::string> seen;
      for (const auto& entry : annotations->entries) {
        if (entry.key->kind != ast::ExprKind::StringLit) fail(entry.key->range, "annotation keys must be strings");
        const std::string& key = entry.key->as<ast::StringLit>().value;
        if (!seen.insert(key).second) fail(entry.key->range, "annotation \"" + key + "\" is given twice");
        copyOption(op, options, key, *entry.value, entry.key->range, true, preferAt);
      }
    }
    if (options.prefer == PreferInstruction::Tma && options.disableTma)
      fail(preferAt, "prefer_instruction=\"tma\" contradicts disable_tma=True");
    auto [s, d] = settleRegions(std::move(src), std::move(dst), c.range);
    // The instruction asked for fixes the scope pairs: TMA moves a tile between
    // global and shared memory (either way); cp.async loads global into shared.
    MemScope from = s.buffer->scope, to = d.buffer->scope;
    std::string pair = std::string(name(from)) + " -> " + name(to);
    if (op == "async_copy") {
      options.async = true;
      if (!(from == MemScope::Global && to == MemScope::Shared))
        fail(c.range, "async_copy copies global -> shared.dyn; this copy is " + pair);
      if (s.buffer->dtype != d.buffer->dtype)
        fail(c.range, std::string("async_copy copies without converting; this copy converts ") + name(s.buffer->dtype) +
                          " to " + name(d.buffer->dtype));
    }
    if (options.prefer == PreferInstruction::Tma &&
        !((from == MemScope::Global && to == MemScope::Shared) || (from == MemScope::Shared && to == MemScope::Global)))
      fail(preferAt, "prefer_instruction=\"tma\" copies global -> shared.dyn or shared.dyn -> global; this copy is " + pair);
    if (options.prefer == PreferInstruction::CpAsync && !(from == MemScope::Global && to == MemScope::Shared))
      fail(preferAt, "prefer_instruction=\"cp_async\" copies global -> shared.dyn; this copy is " + pair);
    if (options.prefer != PreferInstruction::Auto && options.prefer != PreferInstruction::Sync &&
        s.buffer->dtype != d.buffer->dtype)
      fail(preferAt, std::string("prefer_instruction=\"") + (options.prefer == PreferInstruction::Tma ? "tma" : "cp_async") +
                         "\" copies without converting; this copy converts " + name(s.buffer->dtype) + " to " +
                         name(d.buffer->dtype));
    // A fragment side must be the whole fragment: its layout spreads the whole tile.
    for (auto* r : {&s, &d}) {
      if (r->buffer->scope != MemScope::Fragment) continue;
      for (size_t i = 0; i < r->extents.size(); ++i)
        if (r->extents[i] != *asConstInt(r->buffer->shape[i]))
          failAbout(r->range, "not yet supported: a copy of part of fragment '" + r->buffer->name + "'; copy the whole fragment",
                      r->buffer);
    }
    auto result = std::make_shared<CopyOp>(c.range, s, d);
    result->options = options;
    return result;
  }

  // cp_async_commit() closes the group of cp.async copies issued so far;
  // cp_async_wait(n) waits until at most n groups are in flight.
  StmtRef cpAsyncGroup(const ast::Call& c, const std::string& callee) {
    checkKeywords(c, callee, {});
    if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
    if (callee == "cp_async_commit") {
      if (!c.args.empty()) fail(c.args[0]->range, "cp_async_commit() takes no arguments");
      return std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncCommitGroup);
    }
    if (c.args.size() != 1) fail(c.range, "cp_async_wait takes the number of groups allowed in flight: cp_async_wait(0)");
    int64_t n = constIntArg(*c.args[0], "the number of groups in flight");
    if (n < 0 || n > 7) fail(c.args[0]->range, "cp_async_wait takes 0 to 7 groups in flight, not " + std::to_string(n));
    auto wait = std::make_shared<IntrinsicStmt>(c.range, IntrinsicOp::CpAsyncWaitGroup);
    wait->immediate = n;
    return wait;
  }

  // fill(region, value) / clear(region): any scope; the region's extents must be
  // compile-time constants (an element is a region of one).
  StmtRef fillOp(const ast::Call& c, const std::string& callee) {
    checkKeywords(c, callee, {});
    size_t want = callee == "fill" ? 2 : 1;
    if (c.args.size() != want) fail(c.range, callee == "fill" ? "fill takes (buffer, value)" : "clear takes (buffer)");
    if (inParallel_) fail(c.callee->range, callee + "() cannot be called inside a Parallel loop");
    RegionSpec r = regionSpec(*c.args[0], Access::Write);
    if (r.isHead) for (auto& e : r.extents) e = 1;
    for (const auto& e : r.extents)
      if (!e) fail(r.range, "cannot " + callee + " a region whose extent is not a compile-time constant; slice it with a constant extent");
    if (r.buffer->dtype == DType::Float4E2M1) fail(c.range, "not yet supported: " + callee + " of float4_e2m1fn");
    checkRegionInside(r);
    ExprRef v = want == 2 ? scalarExpr(*c.args[1]) : intImm(0);
    if (v->dtype == DType::Handle) fail(c.args[1]->range, "a pointer cannot be stored in a buffer");
    if (r.buffer->scope == MemScope::Fragment)
      for (size_t i = 0; i < r.extents.size(); ++i)
        if (*r.extents[i] != *asConstInt(r.buffer->shape[i]))
          failAbout(r.range, "not yet supported: " + callee + " of part of fragment '" + r.buffer->name + "'", r.buffer);
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
    auto noKeywords = [&]() { checkKeywords(c, callee, {}); };
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
      // cast(x, dtype) or cast(x, dtype=dtype)
      checkKeywords(c, callee, {"dtype"});
      if (c.args.size() + c.kwargs.size() != 2 || c.args.empty()) fail(c.range, "cast takes (value, dtype)");
      ExprRef a = scalarExpr(*c.args[0]);
      DType to = dtypeArg(c.args.size() == 2 ? *c.args[1] : *c.kwargs[0].value);
      if (to == DType::Float4E2M1 || a->dtype == DType::Float4E2M1) fail(c.range, "not yet supported: casts to or from float4_e2m1fn");
      return cast(to, a);
    }
    if (callee == "if_then_else") {
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
    if (kNotYetSupported.count(callee)) fail(c.callee->range, "not yet supported: " + callee);
    if (macros_.count(callee)) fail(c.range, "macro '" + callee + "' has no value; call it as a statement");
    if (callee == "copy" || callee == "fill" || callee == "clear" || callee == "sync_threads" || callee == "fence_proxy_async")
      fail(c.range, "'" + callee + "' has no value; call it as a statement");
    if (makesBuffer(callee))
      fail(c.range, "'" + callee + "' makes a buffer, not a value; give it a name on its own: X = " + callee + "(...)");
    fail(c.callee->range, "unknown function '" + callee + "'");
  }
};

}  // namespace

// The analysis meets mistakes in the order it walks (consts first, a macro's body
// at each call); they are reported in source order, each with its notes, and a
// mistake found again by a second expansion of the same macro is reported once.
static void reportInSourceOrder(const std::vector<Diagnostic>& found, DiagnosticEngine& diags) {
  struct Group {
    size_t first, last;  // [first, last): a diagnostic and the notes after it
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].severity == Severity::Note && !groups.empty()) groups.back().last = i + 1;
    else groups.push_back({i, i + 1});
  }
  auto key = [&](const Group& g) {
    const SourceRange& r = found[g.first].range;
    return std::make_pair(r.valid() ? 1 : 0, r.begin.offset);
  };
  std::stable_sort(groups.begin(), groups.end(), [&](const Group& a, const Group& b) { return key(a) < key(b); });
  std::set<std::tuple<int, uint32_t, uint32_t, std::string>> seen;
  auto isExpansionNote = [](const Diagnostic& d) { return d.message.rfind("in the expansion of macro", 0) == 0; };
  for (const Group& g : groups) {
    const Diagnostic& d = found[g.first];
    // The notes about the mistake itself first, then the chain of macro calls.
    std::vector<const Diagnostic*> ordered;
    for (size_t i = g.first; i < g.last; ++i)
      if (i == g.first || !isExpansionNote(found[i])) ordered.push_back(&found[i]);
    for (size_t i = g.first + 1; i < g.last; ++i)
      if (isExpansionNote(found[i])) ordered.push_back(&found[i]);
    if (!seen.insert({(int)d.severity, d.range.begin.offset, d.range.end.offset, d.message}).second) continue;
    for (const Diagnostic* each : ordered) {
      const Diagnostic& x = *each;
      switch (x.severity) {
        case Severity::Error: diags.error(x.range, x.message); break;
        case Severity::Warning: diags.warning(x.range, x.message); break;
        case Severity::Note: diags.note(x.range, x.message); break;
        case Severity::Remark: diags.remark(x.range, x.message); break;
      }
    }
  }
}

std::unique_ptr<ir::Module> analyze(const ast::File& file, const SemaOptions& options, DiagnosticEngine& diags) {
  std::ostringstream unused;  // the collecting engine's own rendering is not shown
  DiagnosticEngine collected(unused);
  collected.setFile(diags.file());
  collected.setErrorLimit(0);
  Analyzer analyzer(options, collected);
  auto module = analyzer.runWithDefines(file);
  reportInSourceOrder(collected.all(), diags);
  return collected.hasErrors() ? nullptr : std::move(module);
}

}  // namespace tlc
