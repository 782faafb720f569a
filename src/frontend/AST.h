// AST: the syntax tree of a .tl file, built from the ANTLR parse tree by AstBuilder.
//
// Holds: exactly what the user wrote (no name resolution, no folding); every node
// carries the source range it came from. Nodes are owned by unique_ptr and
// discriminated by a `kind` field; use `as<T>()` after checking `kind`.
// Types in parameters (`Tensor((M, N), float16)`, `ptr(float32)`, `int32`) are
// ordinary expressions here; semantic analysis interprets them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/Diagnostics.h"

namespace tlc::ast {

// ---------------------------------------------------------------- expressions

enum class ExprKind {
  IntLit,     // 42, 0x2a, 0b101
  FloatLit,   // 1.0, 2e-3
  StringLit,  // "evict_first"
  BoolLit,    // True / False / true / false
  Name,       // A, float16, Parallel
  Attribute,  // base.name          (Tensor.from_ptr)
  Unary,      // -x, ~x, not x
  Binary,     // a + b, a and b, a < b ...
  Call,       // f(args, key=value)
  Index,      // A[i, a:b, :]
  Tuple,      // (a, b), () or [a, b] ; a parenthesized single expression is NOT a tuple, [a] is
  Dict,       // {A_s: swizzled(A_s, 128)}
  Lambda,     // (i, j) -> expr
};

enum class UnaryOp { Neg, Plus, BitNot, Not };
enum class BinaryOp {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow,
  Shl, Shr, BitAnd, BitOr, BitXor,
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or,
};
const char* spelling(UnaryOp op);
const char* spelling(BinaryOp op);

struct Expr {
  explicit Expr(ExprKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Expr() = default;
  ExprKind kind;
  SourceRange range;
  template <class T> const T& as() const { return static_cast<const T&>(*this); }
  template <class T> T& as() { return static_cast<T&>(*this); }
};
using ExprPtr = std::unique_ptr<Expr>;

struct IntLit : Expr {
  IntLit(SourceRange r, uint64_t v, std::string text)
      : Expr(ExprKind::IntLit, r), value(v), text(std::move(text)) {}
  uint64_t value;  // literals are non-negative; `-1` is Unary(Neg, 1)
  std::string text;
};
struct FloatLit : Expr {
  FloatLit(SourceRange r, double v, std::string text)
      : Expr(ExprKind::FloatLit, r), value(v), text(std::move(text)) {}
  double value;
  std::string text;
};
struct StringLit : Expr {
  StringLit(SourceRange r, std::string v) : Expr(ExprKind::StringLit, r), value(std::move(v)) {}
  std::string value;  // unescaped contents, without quotes
};
struct BoolLit : Expr {
  BoolLit(SourceRange r, bool v) : Expr(ExprKind::BoolLit, r), value(v) {}
  bool value;
};
struct Name : Expr {
  Name(SourceRange r, std::string n) : Expr(ExprKind::Name, r), name(std::move(n)) {}
  std::string name;
  // Written `T.name`: TileLang's module prefix on a built-in (frontend/Vocabulary.def).
  // The range covers `T.name`; the name is the built-in's.
  bool modulePrefix = false;
};
struct Attribute : Expr {
  Attribute(SourceRange r, ExprPtr b, std::string n, SourceRange nameRange)
      : Expr(ExprKind::Attribute, r), base(std::move(b)), name(std::move(n)), nameRange(nameRange) {}
  ExprPtr base;
  std::string name;
  SourceRange nameRange;
};
struct Unary : Expr {
  Unary(SourceRange r, UnaryOp o, ExprPtr e) : Expr(ExprKind::Unary, r), op(o), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};
struct Binary : Expr {
  Binary(SourceRange r, BinaryOp o, ExprPtr l, ExprPtr rhs, SourceRange opRange)
      : Expr(ExprKind::Binary, r), op(o), lhs(std::move(l)), rhs(std::move(rhs)), opRange(opRange) {}
  BinaryOp op;
  ExprPtr lhs, rhs;
  SourceRange opRange;  // the operator token, for diagnostics such as "use //"
};
struct KeywordArg {
  std::string name;
  SourceRange nameRange;
  ExprPtr value;
};
struct Call : Expr {
  Call(SourceRange r, ExprPtr c) : Expr(ExprKind::Call, r), callee(std::move(c)) {}
  ExprPtr callee;  // a Name or an Attribute
  std::vector<ExprPtr> args;
  std::vector<KeywordArg> kwargs;  // in source order; positional args all come first
};
// One subscript entry: an expression, or a slice `lo:hi` where either side may be absent.
struct IndexItem {
  SourceRange range;
  bool isSlice = false;
  ExprPtr value;     // when !isSlice
  ExprPtr lo, hi;    // when isSlice (nullptr = absent)
};
struct Index : Expr {
  Index(SourceRange r, ExprPtr b) : Expr(ExprKind::Index, r), base(std::move(b)) {}
  ExprPtr base;
  std::vector<IndexItem> items;
};
struct Tuple : Expr {
  explicit Tuple(SourceRange r) : Expr(ExprKind::Tuple, r) {}
  std::vector<ExprPtr> elements;  // `(a,)` has one element
};
struct DictEntry {
  ExprPtr key, value;
};
struct Dict : Expr {
  explicit Dict(SourceRange r) : Expr(ExprKind::Dict, r) {}
  std::vector<DictEntry> entries;
};
struct LambdaParam {
  std::string name;
  SourceRange range;
};
struct Lambda : Expr {
  explicit Lambda(SourceRange r) : Expr(ExprKind::Lambda, r) {}
  std::vector<LambdaParam> params;
  ExprPtr body;
};

// ----------------------------------------------------------------- statements

enum class StmtKind {
  Block,   // { ... }
  Assign,  // target op= value;   target is a Name or an Index
  Expr,    // call(...);
  For,     // for i, j in iter { ... }
  If,      // if c { } else { }    (else-if chains nest an If in elseBody)
  With,    // with Kernel(...) as (bx, by) { ... }
};

enum class AssignOp { Set, Add, Sub, Mul, Div, FloorDiv, Mod, BitAnd, BitOr, BitXor, Shl, Shr };
const char* spelling(AssignOp op);

struct Stmt {
  explicit Stmt(StmtKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  SourceRange range;
  template <class T> const T& as() const { return static_cast<const T&>(*this); }
  template <class T> T& as() { return static_cast<T&>(*this); }
};
using StmtPtr = std::unique_ptr<Stmt>;

struct Block : Stmt {
  explicit Block(SourceRange r) : Stmt(StmtKind::Block, r) {}
  std::vector<StmtPtr> stmts;
  // False for the assignments a tuple assignment `a, b = x, y` becomes: its names
  // belong to the enclosing block.
  bool scoped = true;
};
struct Assign : Stmt {
  Assign(SourceRange r, ExprPtr t, AssignOp o, ExprPtr v, SourceRange opRange)
      : Stmt(StmtKind::Assign, r), target(std::move(t)), op(o), value(std::move(v)), opRange(opRange) {}
  ExprPtr target;
  AssignOp op;
  ExprPtr value;
  SourceRange opRange;
};
struct ExprStmt : Stmt {
  ExprStmt(SourceRange r, ExprPtr e) : Stmt(StmtKind::Expr, r), expr(std::move(e)) {}
  ExprPtr expr;
};
struct LoopVar {
  std::string name;
  SourceRange range;
};
struct For : Stmt {
  explicit For(SourceRange r) : Stmt(StmtKind::For, r) {}
  std::vector<LoopVar> vars;
  ExprPtr iter;  // usually a Call: Parallel(..), Pipelined(..), serial(..), range(..)
  std::unique_ptr<Block> body;
};
struct If : Stmt {
  explicit If(SourceRange r) : Stmt(StmtKind::If, r) {}
  ExprPtr cond;
  std::unique_ptr<Block> thenBody;
  std::unique_ptr<Block> elseBody;  // nullptr when absent; `else if` = Block holding one If
};
struct With : Stmt {
  explicit With(SourceRange r) : Stmt(StmtKind::With, r) {}
  ExprPtr context;                // Kernel(...)
  std::vector<LoopVar> bindings;  // `as (bx, by)`, `as bx`, or none (no `as`)
  std::unique_ptr<Block> body;
};

// ------------------------------------------------------------- declarations

struct Param {
  std::string name;
  SourceRange range;      // the whole `name: type`
  SourceRange nameRange;
  ExprPtr type;           // Name (int32) or Call (Tensor((M, N), float16))
};

enum class DeclKind { Const, Macro, Kernel };

struct Decl {
  explicit Decl(DeclKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Decl() = default;
  DeclKind kind;
  SourceRange range;
  std::string name;
  SourceRange nameRange;
  template <class T> const T& as() const { return static_cast<const T&>(*this); }
};
using DeclPtr = std::unique_ptr<Decl>;

struct ConstDecl : Decl {
  explicit ConstDecl(SourceRange r) : Decl(DeclKind::Const, r) {}
  ExprPtr value;
};
// A macro or a kernel: a name, parameters and a body.
struct FunctionDecl : Decl {
  FunctionDecl(DeclKind k, SourceRange r) : Decl(k, r) {}
  std::vector<Param> params;
  std::unique_ptr<Block> body;
};

struct File {
  std::vector<DeclPtr> decls;  // in source order
};

// Writes the AST as an indented tree (the `--emit=ast` format), ranges as line:col.
void print(const File& file, std::ostream& out);

}  // namespace tlc::ast
