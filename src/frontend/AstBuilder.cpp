// AstBuilder: one function per grammar rule, walking ANTLR's *Context objects into
// the AST. Plain recursive functions over the contexts (no visitor, no std::any).
//
// The parse tree reaching here is error-free and its depth is bounded by Parser.cpp,
// so every context has the children its rule promises and recursion stays shallow.
#include "frontend/AstBuilder.h"

#include "frontend/Vocabulary.h"

#include <charconv>
#include <cstdio>
#include <unordered_set>

namespace tlc::frontend {

// ---------------------------------------------------------------- TokenLocator

uint32_t TokenLocator::byteOffset(size_t codePointIndex) const {
  if (byteOffsetOfCodePoint_.empty()) return (uint32_t)codePointIndex;
  if (codePointIndex >= byteOffsetOfCodePoint_.size()) return byteOffsetOfCodePoint_.back();
  return byteOffsetOfCodePoint_[codePointIndex];
}

SourceRange TokenLocator::rangeOf(const antlr4::Token* token) const { return rangeOf(token, token); }

SourceRange TokenLocator::rangeOf(const antlr4::Token* first, const antlr4::Token* last) const {
  SourceRange range;
  range.begin = locationOf(first->getStartIndex());
  // An EOF token has stop = start - 1; give it an empty range.
  if (last->getType() == antlr4::Token::EOF || last->getStopIndex() + 1 < last->getStartIndex() + 1)
    range.end = locationOf(last->getStartIndex());
  else
    range.end = locationOf(last->getStopIndex() + 1);
  if (range.end.offset < range.begin.offset) range.end = range.begin;
  return range;
}

SourceRange TokenLocator::rangeOf(antlr4::ParserRuleContext* ctx) const {
  const antlr4::Token* first = ctx->getStart();
  const antlr4::Token* last = ctx->getStop();
  // A rule that matched nothing has stop before start.
  if (!last || last->getTokenIndex() < first->getTokenIndex()) last = first;
  return rangeOf(first, last);
}

SourceRange TokenLocator::rangeAfter(const antlr4::Token* token) const {
  SourceRange range = rangeOf(token);
  range.begin = range.end;
  return range;
}

// ---------------------------------------------------------------- helpers

namespace {

std::string withoutUnderscores(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text)
    if (c != '_') out.push_back(c);
  return out;
}

// Reports a repeated name in a list of parameters / loop variables / keywords.
class DuplicateChecker {
 public:
  DuplicateChecker(DiagnosticEngine& diags, const char* what) : diags_(diags), what_(what) {}
  void add(const std::string& name, SourceRange range) {
    if (!seen_.insert(name).second) diags_.error(range, std::string("duplicate ") + what_ + " '" + name + "'");
  }

 private:
  DiagnosticEngine& diags_;
  const char* what_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

// ---------------------------------------------------------------- declarations

std::unique_ptr<ast::File> AstBuilder::buildFile(P::FileContext* ctx) {
  auto file = std::make_unique<ast::File>();
  for (P::DeclarationContext* decl : ctx->declaration())
    if (ast::DeclPtr built = buildDeclaration(decl)) file->decls.push_back(std::move(built));
  return file;
}

ast::DeclPtr AstBuilder::buildDeclaration(P::DeclarationContext* ctx) {
  if (auto* c = dynamic_cast<P::ConstDeclContext*>(ctx)) return buildConstDecl(c);
  if (auto* f = dynamic_cast<P::FunctionDeclContext*>(ctx)) return buildFunctionDecl(f);
  diags_.internalError(rangeOf(ctx), "unknown declaration context");
}

ast::DeclPtr AstBuilder::buildConstDecl(P::ConstDeclContext* ctx) {
  auto decl = std::make_unique<ast::ConstDecl>(rangeOf(ctx));
  decl->name = ctx->NAME()->getText();
  decl->nameRange = rangeOf(ctx->NAME());
  decl->value = buildExpression(ctx->expression());
  return decl;
}

ast::DeclPtr AstBuilder::buildFunctionDecl(P::FunctionDeclContext* ctx) {
  ast::DeclKind kind = ctx->kind->getType() == P::KERNEL ? ast::DeclKind::Kernel : ast::DeclKind::Macro;
  auto decl = std::make_unique<ast::FunctionDecl>(kind, rangeOf(ctx));
  decl->name = ctx->NAME()->getText();
  decl->nameRange = rangeOf(ctx->NAME());
  if (P::ParamListContext* params = ctx->paramList()) {
    DuplicateChecker duplicates(diags_, "parameter");
    for (P::ParamContext* param : params->param()) {
      decl->params.push_back(buildParam(param));
      duplicates.add(decl->params.back().name, decl->params.back().nameRange);
    }
  }
  decl->body = buildBlock(ctx->block());
  return decl;
}

ast::Param AstBuilder::buildParam(P::ParamContext* ctx) {
  ast::Param param;
  param.name = ctx->NAME()->getText();
  param.range = rangeOf(ctx);
  param.nameRange = rangeOf(ctx->NAME());
  param.type = buildExpression(ctx->expression());
  return param;
}

// ---------------------------------------------------------------- statements

std::unique_ptr<ast::Block> AstBuilder::buildBlock(P::BlockContext* ctx) {
  auto block = std::make_unique<ast::Block>(rangeOf(ctx));
  for (P::StatementContext* stmt : ctx->statement())
    if (ast::StmtPtr built = buildStatement(stmt)) block->stmts.push_back(std::move(built));
  return block;
}

ast::StmtPtr AstBuilder::buildStatement(P::StatementContext* ctx) {
  if (auto* s = dynamic_cast<P::SimpleStmtContext*>(ctx)) return buildSimpleStmt(s);
  if (auto* s = dynamic_cast<P::ForStmtContext*>(ctx)) return buildForStmt(s);
  if (auto* s = dynamic_cast<P::WithStmtContext*>(ctx)) return buildWithStmt(s);
  if (auto* s = dynamic_cast<P::IfStmtContext*>(ctx)) return buildIf(s->ifStatement());
  if (auto* s = dynamic_cast<P::BlockStmtContext*>(ctx)) return buildBlock(s->block());
  diags_.internalError(rangeOf(ctx), "unknown statement context");
}

ast::StmtPtr AstBuilder::buildSimpleStmt(P::SimpleStmtContext* ctx) {
  if (ctx->targets.size() > 1 || ctx->values.size() > 1) return buildTupleAssign(ctx);
  ast::ExprPtr target = buildExpression(ctx->targets[0]);
  if (!ctx->assignOp()) return std::make_unique<ast::ExprStmt>(rangeOf(ctx), std::move(target));

  if (target->kind != ast::ExprKind::Name && target->kind != ast::ExprKind::Index)
    diags_.error(target->range, "cannot assign to this expression: the target must be a name or an element such as A[i, j]");
  ast::AssignOp op = buildAssignOp(ctx->assignOp());
  ast::ExprPtr value = buildExpression(ctx->values[0]);
  return std::make_unique<ast::Assign>(rangeOf(ctx), std::move(target), op, std::move(value),
                                       rangeOf(ctx->assignOp()));
}

// Every NAME token under `tree` (names an expression reads, or calls).
static void collectNames(antlr4::tree::ParseTree* tree, std::vector<std::string>& out) {
  if (auto* t = dynamic_cast<antlr4::tree::TerminalNode*>(tree)) {
    if (t->getSymbol()->getType() == grammar::TileParser::NAME) out.push_back(t->getText());
    return;
  }
  for (antlr4::tree::ParseTree* child : tree->children) collectNames(child, out);
}

// `a, b = x, y` and `a, b = (x, y)`: Python's tuple assignment, as assignments in
// order in the enclosing block (an unscoped Block). Python evaluates the whole right
// side first; where a value reads a name the statement assigns (`a, b = b, a`), the
// values go through hidden names first (`tuple.1.0` cannot be written in a program).
ast::StmtPtr AstBuilder::buildTupleAssign(P::SimpleStmtContext* ctx) {
  if (!ctx->assignOp()) {
    diags_.error(rangeOf(ctx), "a tuple is not a statement; did you mean an assignment `a, b = x, y;`?");
    return nullptr;
  }
  ast::AssignOp op = buildAssignOp(ctx->assignOp());
  if (op != ast::AssignOp::Set) {
    diags_.error(rangeOf(ctx->assignOp()),
                 std::string("'") + ast::spelling(op) + "' cannot assign to several targets; only '=' can");
    return nullptr;
  }
  std::vector<ast::ExprPtr> targets, values;
  for (P::ExpressionContext* t : ctx->targets) targets.push_back(buildExpression(t));
  for (P::ExpressionContext* v : ctx->values) values.push_back(buildExpression(v));
  if (values.size() == 1 && values[0]->kind == ast::ExprKind::Tuple) {
    auto& tuple = values[0]->as<ast::Tuple>();
    std::vector<ast::ExprPtr> elements = std::move(tuple.elements);
    values = std::move(elements);
  }
  if (targets.size() == 1 && targets[0]->kind != ast::ExprKind::Name && targets[0]->kind != ast::ExprKind::Index) {
    diags_.error(targets[0]->range, "cannot assign to this expression: the target must be a name or an element such as A[i, j]");
    return nullptr;
  }
  if (targets.size() == 1) {
    // `t = x, y`: a tuple value of one name, like `t = (x, y)`.
    auto tuple = std::make_unique<ast::Tuple>(loc_.rangeOf(ctx->values.front()->getStart(), ctx->values.back()->getStop()));
    tuple->elements = std::move(values);
    return std::make_unique<ast::Assign>(rangeOf(ctx), std::move(targets[0]), op, std::move(tuple),
                                         rangeOf(ctx->assignOp()));
  }
  if (values.size() != targets.size()) {
    diags_.error(rangeOf(ctx), std::to_string(targets.size()) + " targets but " + std::to_string(values.size()) +
                                   " value" + (values.size() == 1 ? "" : "s") + " to assign; a tuple assignment pairs them one to one");
    return nullptr;
  }
  bool ok = true;
  for (auto& t : targets)
    if (t->kind != ast::ExprKind::Name && t->kind != ast::ExprKind::Index) {
      diags_.error(t->range, "cannot assign to this expression: the target must be a name or an element such as A[i, j]");
      ok = false;
    }
  if (!ok) return nullptr;
  // A value that reads any name a target mentions (an assigned name, an element
  // target's buffer or index: `A[0], x = 1, A[0]`) needs the right side evaluated
  // first; otherwise assigning in order is the same.
  std::vector<std::string> read, written;
  for (P::ExpressionContext* v : ctx->values) collectNames(v, read);
  for (P::ExpressionContext* t : ctx->targets) collectNames(t, written);
  bool readsTargets = false;
  for (const std::string& r : read)
    for (const std::string& w : written)
      if (r == w) readsTargets = true;
  auto seq = std::make_unique<ast::Block>(rangeOf(ctx));
  seq->scoped = false;
  SourceRange opRange = rangeOf(ctx->assignOp());
  if (!readsTargets) {
    for (size_t i = 0; i < targets.size(); ++i) {
      SourceRange r = targets[i]->range;
      r.end = values[i]->range.end;
      seq->stmts.push_back(std::make_unique<ast::Assign>(r, std::move(targets[i]), op, std::move(values[i]), opRange));
    }
    return seq;
  }
  std::vector<std::string> hidden;  // fresh for each statement: the values' types may differ
  ++tupleAssignments_;
  for (size_t i = 0; i < values.size(); ++i) {
    hidden.push_back("tuple." + std::to_string(tupleAssignments_) + "." + std::to_string(i));
    SourceRange r = values[i]->range;
    seq->stmts.push_back(std::make_unique<ast::Assign>(
        r, std::make_unique<ast::Name>(r, hidden.back()), op, std::move(values[i]), opRange));
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    SourceRange r = targets[i]->range;
    seq->stmts.push_back(std::make_unique<ast::Assign>(r, std::move(targets[i]), op,
                                                       std::make_unique<ast::Name>(r, hidden[i]), opRange));
  }
  return seq;
}

ast::AssignOp AstBuilder::buildAssignOp(P::AssignOpContext* ctx) {
  switch (ctx->getStart()->getType()) {
    case P::ASSIGN: return ast::AssignOp::Set;
    case P::ADD_ASSIGN: return ast::AssignOp::Add;
    case P::SUB_ASSIGN: return ast::AssignOp::Sub;
    case P::MUL_ASSIGN: return ast::AssignOp::Mul;
    case P::DIV_ASSIGN: return ast::AssignOp::Div;
    case P::FLOORDIV_ASSIGN: return ast::AssignOp::FloorDiv;
    case P::MOD_ASSIGN: return ast::AssignOp::Mod;
    case P::AND_ASSIGN: return ast::AssignOp::BitAnd;
    case P::OR_ASSIGN: return ast::AssignOp::BitOr;
    case P::XOR_ASSIGN: return ast::AssignOp::BitXor;
    case P::SHL_ASSIGN: return ast::AssignOp::Shl;
    case P::SHR_ASSIGN: return ast::AssignOp::Shr;
  }
  diags_.internalError(rangeOf(ctx), "unknown assignment operator");
}

ast::StmtPtr AstBuilder::buildForStmt(P::ForStmtContext* ctx) {
  auto loop = std::make_unique<ast::For>(rangeOf(ctx));
  DuplicateChecker duplicates(diags_, "loop variable");
  for (antlr4::tree::TerminalNode* name : ctx->NAME()) {
    loop->vars.push_back(ast::LoopVar{name->getText(), rangeOf(name)});
    duplicates.add(loop->vars.back().name, loop->vars.back().range);
  }
  loop->iter = buildExpression(ctx->expression());
  loop->body = buildBlock(ctx->block());
  return loop;
}

ast::StmtPtr AstBuilder::buildWithStmt(P::WithStmtContext* ctx) {
  auto with = std::make_unique<ast::With>(rangeOf(ctx));
  with->context = buildExpression(ctx->expression());
  if (ctx->bindings()) with->bindings = buildBindings(ctx->bindings());  // `as` is optional, as in Python
  with->body = buildBlock(ctx->block());
  return with;
}

std::vector<ast::LoopVar> AstBuilder::buildBindings(P::BindingsContext* ctx) {
  std::vector<ast::LoopVar> bindings;
  DuplicateChecker duplicates(diags_, "binding");
  for (antlr4::tree::TerminalNode* name : ctx->NAME()) {
    bindings.push_back(ast::LoopVar{name->getText(), rangeOf(name)});
    duplicates.add(bindings.back().name, bindings.back().range);
  }
  return bindings;
}

std::unique_ptr<ast::If> AstBuilder::buildIf(P::IfStatementContext* ctx) {
  auto stmt = std::make_unique<ast::If>(rangeOf(ctx));
  stmt->cond = buildExpression(ctx->expression());
  stmt->thenBody = buildBlock(ctx->block(0));
  if (P::IfStatementContext* elseIf = ctx->ifStatement()) {
    // `else if`: a block (spanning the nested if) holding that one If.
    auto elseBlock = std::make_unique<ast::Block>(rangeOf(elseIf));
    elseBlock->stmts.push_back(buildIf(elseIf));
    stmt->elseBody = std::move(elseBlock);
  } else if (ctx->block().size() > 1) {
    stmt->elseBody = buildBlock(ctx->block(1));
  }
  return stmt;
}

// ---------------------------------------------------------------- expressions

ast::ExprPtr AstBuilder::buildExpression(P::ExpressionContext* ctx) {
  if (auto* lambda = dynamic_cast<P::LambdaExprContext*>(ctx))
    return buildLambda(lambda, lambda->lambdaParams()->NAME(), lambda->expression());
  if (auto* lambda = dynamic_cast<P::PyLambdaExprContext*>(ctx)) return buildLambda(lambda, lambda->NAME(), lambda->expression());
  return buildExpr(static_cast<P::PlainExprContext*>(ctx)->expr());
}

// `(i, j) -> body` and Python's spelling `lambda i, j: body`: the same node.
ast::ExprPtr AstBuilder::buildLambda(antlr4::ParserRuleContext* ctx, const std::vector<antlr4::tree::TerminalNode*>& names,
                                     P::ExpressionContext* body) {
  auto lambda = std::make_unique<ast::Lambda>(rangeOf(ctx));
  DuplicateChecker duplicates(diags_, "lambda parameter");
  for (antlr4::tree::TerminalNode* name : names) {
    lambda->params.push_back(ast::LambdaParam{name->getText(), rangeOf(name)});
    duplicates.add(lambda->params.back().name, lambda->params.back().range);
  }
  lambda->body = buildExpression(body);
  return lambda;
}

ast::ExprPtr AstBuilder::buildExpr(P::ExprContext* ctx) {
  if (auto* e = dynamic_cast<P::AtomExprContext*>(ctx)) return buildAtom(e->atom());
  if (auto* e = dynamic_cast<P::BinaryExprContext*>(ctx)) return buildBinary(e);
  if (auto* e = dynamic_cast<P::CallExprContext*>(ctx)) return buildCall(e);
  if (auto* e = dynamic_cast<P::IndexExprContext*>(ctx)) return buildIndex(e);
  if (auto* e = dynamic_cast<P::UnaryExprContext*>(ctx)) return buildUnary(e);
  if (auto* e = dynamic_cast<P::AttributeExprContext*>(ctx)) return buildAttribute(e);
  diags_.internalError(rangeOf(ctx), "unknown expression context");
}

// `T.copy` is TileLang's spelling of the built-in `copy` (`import tilelang.language as
// T`): an attribute of the bare name `T` that names a word of the language's
// vocabulary (Vocabulary.def, the dtypes, the math functions) becomes that name. The
// language has no other attributes of `T`, so this never hides a user's name; any
// other `T.x` stays an attribute, which sema reports with a suggestion.
ast::ExprPtr AstBuilder::buildAttribute(P::AttributeExprContext* ctx) {
  ast::ExprPtr base = buildExpr(ctx->expr());
  std::string attr = ctx->NAME()->getText();
  if (base->kind == ast::ExprKind::Name && base->as<ast::Name>().name == "T" && !base->as<ast::Name>().modulePrefix &&
      vocabulary::kindOf(attr)) {
    auto name = std::make_unique<ast::Name>(rangeOf(ctx), attr);
    name->modulePrefix = true;
    return name;
  }
  return std::make_unique<ast::Attribute>(rangeOf(ctx), std::move(base), attr, rangeOf(ctx->NAME()));
}

ast::ExprPtr AstBuilder::buildCall(P::CallExprContext* ctx) {
  ast::ExprPtr callee = buildExpr(ctx->expr());
  if (callee->kind != ast::ExprKind::Name && callee->kind != ast::ExprKind::Attribute)
    diags_.error(callee->range, "only a name such as copy or an attribute such as Tensor.from_ptr can be called");
  auto call = std::make_unique<ast::Call>(rangeOf(ctx), std::move(callee));
  if (P::ArgumentListContext* args = ctx->argumentList()) {
    DuplicateChecker duplicates(diags_, "keyword argument");
    for (P::ArgumentContext* arg : args->argument()) {
      if (auto* keyword = dynamic_cast<P::KeywordArgumentContext*>(arg)) {
        ast::KeywordArg kwarg{keyword->name->getText(), rangeOf(keyword->name),
                              buildExpression(keyword->expression())};
        duplicates.add(kwarg.name, kwarg.nameRange);
        call->kwargs.push_back(std::move(kwarg));
        continue;
      }
      auto* positional = static_cast<P::PositionalArgumentContext*>(arg);
      ast::ExprPtr value = buildExpression(positional->expression());
      if (!call->kwargs.empty())
        diags_.error(value->range, "positional argument after keyword argument '" + call->kwargs.back().name + "'");
      call->args.push_back(std::move(value));
    }
  }
  return call;
}

ast::ExprPtr AstBuilder::buildIndex(P::IndexExprContext* ctx) {
  auto index = std::make_unique<ast::Index>(rangeOf(ctx), buildExpr(ctx->expr()));
  for (P::SubscriptContext* subscript : ctx->subscriptList()->subscript())
    index->items.push_back(buildSubscript(subscript));
  return index;
}

ast::IndexItem AstBuilder::buildSubscript(P::SubscriptContext* ctx) {
  ast::IndexItem item;
  item.range = rangeOf(ctx);
  item.isSlice = ctx->colon != nullptr;
  if (!item.isSlice) {
    item.value = buildExpression(ctx->lo);
    return item;
  }
  if (ctx->lo) item.lo = buildExpression(ctx->lo);
  if (ctx->hi) item.hi = buildExpression(ctx->hi);
  return item;
}

ast::ExprPtr AstBuilder::buildUnary(P::UnaryExprContext* ctx) {
  ast::UnaryOp op = ast::UnaryOp::Neg;
  switch (ctx->op->getType()) {
    case P::MINUS: op = ast::UnaryOp::Neg; break;
    case P::PLUS: op = ast::UnaryOp::Plus; break;
    case P::TILDE: op = ast::UnaryOp::BitNot; break;
    case P::NOT: op = ast::UnaryOp::Not; break;
    default: diags_.internalError(rangeOf(ctx), "unknown unary operator");
  }
  return std::make_unique<ast::Unary>(rangeOf(ctx), op, buildExpr(ctx->expr()));
}

ast::ExprPtr AstBuilder::buildBinary(P::BinaryExprContext* ctx) {
  ast::BinaryOp op = ast::BinaryOp::Add;
  switch (ctx->op->getType()) {
    case P::PLUS: op = ast::BinaryOp::Add; break;
    case P::MINUS: op = ast::BinaryOp::Sub; break;
    case P::STAR: op = ast::BinaryOp::Mul; break;
    case P::SLASH: op = ast::BinaryOp::Div; break;
    case P::FLOORDIV: op = ast::BinaryOp::FloorDiv; break;
    case P::PERCENT: op = ast::BinaryOp::Mod; break;
    case P::POW: op = ast::BinaryOp::Pow; break;
    case P::SHL: op = ast::BinaryOp::Shl; break;
    case P::SHR: op = ast::BinaryOp::Shr; break;
    case P::AMP: op = ast::BinaryOp::BitAnd; break;
    case P::PIPE: op = ast::BinaryOp::BitOr; break;
    case P::CARET: op = ast::BinaryOp::BitXor; break;
    case P::LT: op = ast::BinaryOp::Lt; break;
    case P::LE: op = ast::BinaryOp::Le; break;
    case P::GT: op = ast::BinaryOp::Gt; break;
    case P::GE: op = ast::BinaryOp::Ge; break;
    case P::EQ: op = ast::BinaryOp::Eq; break;
    case P::NE: op = ast::BinaryOp::Ne; break;
    case P::AND: op = ast::BinaryOp::And; break;
    case P::OR: op = ast::BinaryOp::Or; break;
    default: diags_.internalError(rangeOf(ctx), "unknown binary operator");
  }
  ast::ExprPtr lhs = buildExpr(ctx->expr(0));
  ast::ExprPtr rhs = buildExpr(ctx->expr(1));
  return std::make_unique<ast::Binary>(rangeOf(ctx), op, std::move(lhs), std::move(rhs), rangeOf(ctx->op));
}

// ---------------------------------------------------------------- atoms

ast::ExprPtr AstBuilder::buildAtom(P::AtomContext* ctx) {
  if (auto* a = dynamic_cast<P::NameAtomContext*>(ctx))
    return std::make_unique<ast::Name>(rangeOf(ctx), a->NAME()->getText());
  if (auto* a = dynamic_cast<P::IntAtomContext*>(ctx)) return buildInt(a->INT()->getSymbol());
  if (auto* a = dynamic_cast<P::FloatAtomContext*>(ctx)) return buildFloat(a->FLOAT()->getSymbol());
  if (auto* a = dynamic_cast<P::StringAtomContext*>(ctx)) return buildString(a->STRING()->getSymbol());
  if (auto* a = dynamic_cast<P::BoolAtomContext*>(ctx)) {
    std::string text = a->BOOL()->getText();
    return std::make_unique<ast::BoolLit>(rangeOf(ctx), text == "True" || text == "true");
  }
  if (auto* a = dynamic_cast<P::ParenAtomContext*>(ctx)) return buildParen(a);
  if (auto* a = dynamic_cast<P::DictAtomContext*>(ctx)) return buildDict(a);
  if (auto* a = dynamic_cast<P::ListAtomContext*>(ctx)) return buildList(a);
  diags_.internalError(rangeOf(ctx), "unknown atom context");
}

ast::ExprPtr AstBuilder::buildInt(antlr4::Token* token) {
  std::string text = token->getText();
  std::string digits = withoutUnderscores(text);
  int base = 10;
  size_t skip = 0;
  if (digits.size() > 2 && digits[0] == '0') {
    char prefix = (char)(digits[1] | 0x20);  // lower case
    if (prefix == 'x') base = 16, skip = 2;
    if (prefix == 'o') base = 8, skip = 2;
    if (prefix == 'b') base = 2, skip = 2;
  }
  uint64_t value = 0;
  auto [end, error] = std::from_chars(digits.data() + skip, digits.data() + digits.size(), value, base);
  if (error == std::errc::result_out_of_range) {
    diags_.error(rangeOf(token), "integer literal '" + text + "' does not fit in 64 bits");
    value = 0;
  } else if (error != std::errc() || end != digits.data() + digits.size()) {
    diags_.internalError(rangeOf(token), "lexer accepted a malformed integer '" + text + "'");
  }
  return std::make_unique<ast::IntLit>(rangeOf(token), value, text);
}

ast::ExprPtr AstBuilder::buildFloat(antlr4::Token* token) {
  std::string text = token->getText();
  std::string digits = withoutUnderscores(text);
  double value = 0;
  // from_chars, unlike strtod, ignores the C locale's decimal separator.
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error == std::errc::result_out_of_range) {
    // Underflow to zero or a denormal is harmless; overflow is not. Overflow means a
    // non-negative exponent, or no exponent and a non-zero integer part.
    size_t exponent = digits.find_first_of("eE");
    bool overflow = exponent != std::string::npos ? digits[exponent + 1] != '-'
                                                   : digits[0] != '0' && digits[0] != '.';
    if (overflow) {
      diags_.error(rangeOf(token), "floating-point literal '" + text + "' is too large");
      value = 0;
    }
  } else if (error != std::errc() || end != digits.data() + digits.size()) {
    diags_.internalError(rangeOf(token), "lexer accepted a malformed float '" + text + "'");
  }
  return std::make_unique<ast::FloatLit>(rangeOf(token), value, text);
}

ast::ExprPtr AstBuilder::buildString(antlr4::Token* token) {
  std::string text = token->getText();  // with quotes; the lexer guarantees both
  uint32_t tokenStart = loc_.byteOffset(token->getStartIndex());
  std::string value;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      value.push_back(c);
      continue;
    }
    char escape = text[i + 1];
    size_t length = 2;
    switch (escape) {
      case 'n': value.push_back('\n'); break;
      case 't': value.push_back('\t'); break;
      case 'r': value.push_back('\r'); break;
      case '0': value.push_back('\0'); break;
      case '\\': value.push_back('\\'); break;
      case '"': value.push_back('"'); break;
      case '\'': value.push_back('\''); break;
      case 'x': {
        auto hex = [](char h) { return (h >= '0' && h <= '9') || ((h | 0x20) >= 'a' && (h | 0x20) <= 'f'); };
        if (i + 3 < text.size() && hex(text[i + 2]) && hex(text[i + 3])) {
          value.push_back((char)std::stoi(text.substr(i + 2, 2), nullptr, 16));
          length = 4;
          break;
        }
        SourceRange where{loc_.file().locationOf(tokenStart + (uint32_t)i),
                          loc_.file().locationOf(tokenStart + (uint32_t)i + 2)};
        diags_.error(where, "'\\x' must be followed by two hex digits");
        break;
      }
      default: {
        // The escaped character may be several bytes of UTF-8; name the whole of it.
        size_t charLength = 1;
        while (i + 1 + charLength < text.size() - 1 && (text[i + 1 + charLength] & 0xC0) == 0x80) ++charLength;
        SourceRange where{loc_.file().locationOf(tokenStart + (uint32_t)i),
                          loc_.file().locationOf(tokenStart + (uint32_t)(i + 1 + charLength))};
        diags_.error(where, "unknown escape sequence '\\" + text.substr(i + 1, charLength) +
                                "' (known: \\n \\t \\r \\0 \\\\ \\\" \\' \\xNN)");
        length = 1 + charLength;
      }
    }
    i += length - 1;
  }
  return std::make_unique<ast::StringLit>(rangeOf(token), std::move(value));
}

ast::ExprPtr AstBuilder::buildParen(P::ParenAtomContext* ctx) {
  std::vector<P::ExpressionContext*> elements = ctx->expression();
  // `(e)` is just e; `()`, `(e,)` and `(a, b)` are tuples.
  if (elements.size() == 1 && !ctx->comma) return buildExpression(elements[0]);
  auto tuple = std::make_unique<ast::Tuple>(rangeOf(ctx));
  for (P::ExpressionContext* element : elements) tuple->elements.push_back(buildExpression(element));
  return tuple;
}

// `[a, b]`: TileLang's list literal (alloc_barrier([128, 128]), shapes); the same
// Tuple as `(a, b)`, even with one element (`[n]` is a list, never a parenthesis).
ast::ExprPtr AstBuilder::buildList(P::ListAtomContext* ctx) {
  auto tuple = std::make_unique<ast::Tuple>(rangeOf(ctx));
  for (P::ExpressionContext* element : ctx->expression()) tuple->elements.push_back(buildExpression(element));
  return tuple;
}

ast::ExprPtr AstBuilder::buildDict(P::DictAtomContext* ctx) {
  auto dict = std::make_unique<ast::Dict>(rangeOf(ctx));
  for (P::DictEntryContext* entry : ctx->dictEntry())
    dict->entries.push_back(ast::DictEntry{buildExpression(entry->key), buildExpression(entry->value)});
  return dict;
}

}  // namespace tlc::frontend
