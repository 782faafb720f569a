// AstPrinter: `ast::print` (the `--emit=ast` format) and the `spelling` functions.
//
// Format: one node per line, two spaces of indent per level, each line
//   [role: ]Kind [details] @line:col
// where line:col is where the node starts. Roles name children whose part is not
// clear from their position (callee:, cond:, else:, lo:, key:...). Golden tests pin
// this format: change it only together with tests/golden.
#include <ostream>
#include <string>

#include "frontend/AST.h"

namespace tlc::ast {

const char* spelling(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "-";
    case UnaryOp::Plus: return "+";
    case UnaryOp::BitNot: return "~";
    case UnaryOp::Not: return "not";
  }
  return "?";
}

const char* spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::FloorDiv: return "//";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Pow: return "**";
    case BinaryOp::Shl: return "<<";
    case BinaryOp::Shr: return ">>";
    case BinaryOp::BitAnd: return "&";
    case BinaryOp::BitOr: return "|";
    case BinaryOp::BitXor: return "^";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::And: return "and";
    case BinaryOp::Or: return "or";
  }
  return "?";
}

const char* spelling(AssignOp op) {
  switch (op) {
    case AssignOp::Set: return "=";
    case AssignOp::Add: return "+=";
    case AssignOp::Sub: return "-=";
    case AssignOp::Mul: return "*=";
    case AssignOp::Div: return "/=";
    case AssignOp::FloorDiv: return "//=";
    case AssignOp::Mod: return "%=";
    case AssignOp::BitAnd: return "&=";
    case AssignOp::BitOr: return "|=";
    case AssignOp::BitXor: return "^=";
    case AssignOp::Shl: return "<<=";
    case AssignOp::Shr: return ">>=";
  }
  return "?";
}

namespace {

// A string literal as source text: quoted, with the escapes the lexer accepts.
std::string quoted(const std::string& value) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : value) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += (char)c;
        }
    }
  }
  return out + "\"";
}

class TreePrinter {
 public:
  explicit TreePrinter(std::ostream& out) : out_(out) {}

  void printDecl(const Decl& decl) {
    switch (decl.kind) {
      case DeclKind::Const:
        line(0, "", "Const " + decl.name, decl.range);
        printExpr(1, "", *decl.as<ConstDecl>().value);
        return;
      case DeclKind::Macro:
      case DeclKind::Kernel: {
        const auto& fn = decl.as<FunctionDecl>();
        line(0, "", std::string(decl.kind == DeclKind::Kernel ? "Kernel " : "Macro ") + decl.name, decl.range);
        for (const Param& param : fn.params) {
          line(1, "", "Param " + param.name, param.range);
          printExpr(2, "type: ", *param.type);
        }
        printStmt(1, "body: ", *fn.body);
        return;
      }
    }
  }

 private:
  void line(int depth, const char* role, const std::string& text, const SourceRange& range) {
    out_ << std::string(2 * (size_t)depth, ' ') << role << text << " @" << range.begin.line << ':'
         << range.begin.column << '\n';
  }

  void printStmt(int depth, const char* role, const Stmt& stmt) {
    switch (stmt.kind) {
      case StmtKind::Block:
        line(depth, role, "Block", stmt.range);
        for (const StmtPtr& child : stmt.as<Block>().stmts) printStmt(depth + 1, "", *child);
        return;
      case StmtKind::Assign: {
        const auto& assign = stmt.as<Assign>();
        line(depth, role, std::string("Assign ") + spelling(assign.op), stmt.range);
        printExpr(depth + 1, "", *assign.target);
        printExpr(depth + 1, "", *assign.value);
        return;
      }
      case StmtKind::Expr:
        line(depth, role, "ExprStmt", stmt.range);
        printExpr(depth + 1, "", *stmt.as<ExprStmt>().expr);
        return;
      case StmtKind::For: {
        const auto& loop = stmt.as<For>();
        line(depth, role, "For", stmt.range);
        for (const LoopVar& var : loop.vars) line(depth + 1, "", "var " + var.name, var.range);
        printExpr(depth + 1, "in: ", *loop.iter);
        printStmt(depth + 1, "body: ", *loop.body);
        return;
      }
      case StmtKind::If: {
        const auto& branch = stmt.as<If>();
        line(depth, role, "If", stmt.range);
        printExpr(depth + 1, "cond: ", *branch.cond);
        printStmt(depth + 1, "then: ", *branch.thenBody);
        if (branch.elseBody) printStmt(depth + 1, "else: ", *branch.elseBody);
        return;
      }
      case StmtKind::With: {
        const auto& with = stmt.as<With>();
        line(depth, role, "With", stmt.range);
        printExpr(depth + 1, "context: ", *with.context);
        for (const LoopVar& binding : with.bindings) line(depth + 1, "", "as " + binding.name, binding.range);
        printStmt(depth + 1, "body: ", *with.body);
        return;
      }
    }
  }

  void printExpr(int depth, const char* role, const Expr& expr) {
    switch (expr.kind) {
      case ExprKind::IntLit: {
        const auto& lit = expr.as<IntLit>();
        std::string text = "IntLit " + std::to_string(lit.value);
        if (lit.text != std::to_string(lit.value)) text += " (" + lit.text + ")";
        line(depth, role, text, expr.range);
        return;
      }
      case ExprKind::FloatLit:
        line(depth, role, "FloatLit " + expr.as<FloatLit>().text, expr.range);
        return;
      case ExprKind::StringLit:
        line(depth, role, "StringLit " + quoted(expr.as<StringLit>().value), expr.range);
        return;
      case ExprKind::BoolLit:
        line(depth, role, expr.as<BoolLit>().value ? "BoolLit True" : "BoolLit False", expr.range);
        return;
      case ExprKind::Name:
        line(depth, role, "Name " + expr.as<Name>().name + (expr.as<Name>().modulePrefix ? " (written T." + expr.as<Name>().name + ")" : ""), expr.range);
        return;
      case ExprKind::Attribute: {
        const auto& attr = expr.as<Attribute>();
        line(depth, role, "Attribute ." + attr.name, expr.range);
        printExpr(depth + 1, "", *attr.base);
        return;
      }
      case ExprKind::Unary: {
        const auto& unary = expr.as<Unary>();
        line(depth, role, std::string("Unary ") + spelling(unary.op), expr.range);
        printExpr(depth + 1, "", *unary.operand);
        return;
      }
      case ExprKind::Binary: {
        const auto& binary = expr.as<Binary>();
        line(depth, role, std::string("Binary ") + spelling(binary.op), expr.range);
        printExpr(depth + 1, "", *binary.lhs);
        printExpr(depth + 1, "", *binary.rhs);
        return;
      }
      case ExprKind::Call: {
        const auto& call = expr.as<Call>();
        line(depth, role, "Call", expr.range);
        printExpr(depth + 1, "callee: ", *call.callee);
        for (const ExprPtr& arg : call.args) printExpr(depth + 1, "", *arg);
        for (const KeywordArg& kwarg : call.kwargs) {
          line(depth + 1, "", "Keyword " + kwarg.name, kwarg.nameRange);
          printExpr(depth + 2, "", *kwarg.value);
        }
        return;
      }
      case ExprKind::Index: {
        const auto& index = expr.as<Index>();
        line(depth, role, "Index", expr.range);
        printExpr(depth + 1, "base: ", *index.base);
        for (const IndexItem& item : index.items) {
          if (!item.isSlice) {
            printExpr(depth + 1, "", *item.value);
            continue;
          }
          line(depth + 1, "", "Slice", item.range);
          if (item.lo) printExpr(depth + 2, "lo: ", *item.lo);
          if (item.hi) printExpr(depth + 2, "hi: ", *item.hi);
        }
        return;
      }
      case ExprKind::Tuple:
        line(depth, role, "Tuple", expr.range);
        for (const ExprPtr& element : expr.as<Tuple>().elements) printExpr(depth + 1, "", *element);
        return;
      case ExprKind::Dict:
        line(depth, role, "Dict", expr.range);
        for (const DictEntry& entry : expr.as<Dict>().entries) {
          printExpr(depth + 1, "key: ", *entry.key);
          printExpr(depth + 1, "value: ", *entry.value);
        }
        return;
      case ExprKind::Lambda: {
        const auto& lambda = expr.as<Lambda>();
        line(depth, role, "Lambda", expr.range);
        for (const LambdaParam& param : lambda.params) line(depth + 1, "", "param " + param.name, param.range);
        printExpr(depth + 1, "body: ", *lambda.body);
        return;
      }
    }
  }

  std::ostream& out_;
};

}  // namespace

void print(const File& file, std::ostream& out) {
  TreePrinter printer(out);
  for (const DeclPtr& decl : file.decls) printer.printDecl(*decl);
}

}  // namespace tlc::ast
