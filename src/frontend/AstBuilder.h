// AstBuilder: turns a successful ANTLR parse tree into the AST (frontend-internal).
//
// Also holds TokenLocator, which maps ANTLR's character indices (code points) to
// byte offsets and SourceLocs: ANTLR counts code points, our columns count bytes.
// Only Parser.cpp includes this header; ANTLR types stay inside the frontend.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "TileParser.h"
#include "antlr4-runtime.h"
#include "frontend/AST.h"
#include "support/Diagnostics.h"

namespace tlc::frontend {

// Maps ANTLR character indices to source positions.
class TokenLocator {
 public:
  // byteOffsetOfCodePoint[i] = byte offset of code point i, with one extra entry
  // for the end of the text.
  TokenLocator(const SourceFile& file, std::vector<uint32_t> byteOffsetOfCodePoint)
      : file_(file), byteOffsetOfCodePoint_(std::move(byteOffsetOfCodePoint)) {}

  uint32_t byteOffset(size_t codePointIndex) const;
  SourceLoc locationOf(size_t codePointIndex) const { return file_.locationOf(byteOffset(codePointIndex)); }
  // The range of one token; an EOF token gets an empty range at the end of the text.
  SourceRange rangeOf(const antlr4::Token* token) const;
  // From the start of `first` to the end of `last`.
  SourceRange rangeOf(const antlr4::Token* first, const antlr4::Token* last) const;
  SourceRange rangeOf(antlr4::ParserRuleContext* ctx) const;
  // An empty range just past `token` (where a missing `;` belongs).
  SourceRange rangeAfter(const antlr4::Token* token) const;

  const SourceFile& file() const { return file_; }

 private:
  const SourceFile& file_;
  std::vector<uint32_t> byteOffsetOfCodePoint_;
};

// One build per parse. Reports the errors the grammar cannot express (an assignment
// to a call, a bad escape, an integer too large for 64 bits, a positional argument
// after a keyword argument) and keeps going; check diags afterwards.
class AstBuilder {
 public:
  AstBuilder(const TokenLocator& locator, DiagnosticEngine& diags) : loc_(locator), diags_(diags) {}

  std::unique_ptr<ast::File> buildFile(grammar::TileParser::FileContext* ctx);

 private:
  using P = grammar::TileParser;

  ast::DeclPtr buildDeclaration(P::DeclarationContext* ctx);
  ast::DeclPtr buildConstDecl(P::ConstDeclContext* ctx);
  ast::DeclPtr buildFunctionDecl(P::FunctionDeclContext* ctx);
  ast::Param buildParam(P::ParamContext* ctx);

  std::unique_ptr<ast::Block> buildBlock(P::BlockContext* ctx);
  ast::StmtPtr buildStatement(P::StatementContext* ctx);
  ast::StmtPtr buildSimpleStmt(P::SimpleStmtContext* ctx);
  ast::StmtPtr buildTupleAssign(P::SimpleStmtContext* ctx);
  ast::StmtPtr buildForStmt(P::ForStmtContext* ctx);
  ast::StmtPtr buildWithStmt(P::WithStmtContext* ctx);
  std::unique_ptr<ast::If> buildIf(P::IfStatementContext* ctx);
  std::vector<ast::LoopVar> buildBindings(P::BindingsContext* ctx);
  ast::AssignOp buildAssignOp(P::AssignOpContext* ctx);

  ast::ExprPtr buildExpression(P::ExpressionContext* ctx);
  ast::ExprPtr buildLambda(antlr4::ParserRuleContext* ctx, const std::vector<antlr4::tree::TerminalNode*>& names,
                           P::ExpressionContext* body);
  ast::ExprPtr buildExpr(P::ExprContext* ctx);
  ast::ExprPtr buildAttribute(P::AttributeExprContext* ctx);
  ast::ExprPtr buildCall(P::CallExprContext* ctx);
  ast::ExprPtr buildIndex(P::IndexExprContext* ctx);
  ast::ExprPtr buildUnary(P::UnaryExprContext* ctx);
  ast::ExprPtr buildBinary(P::BinaryExprContext* ctx);
  ast::IndexItem buildSubscript(P::SubscriptContext* ctx);

  ast::ExprPtr buildAtom(P::AtomContext* ctx);
  ast::ExprPtr buildInt(antlr4::Token* token);
  ast::ExprPtr buildFloat(antlr4::Token* token);
  ast::ExprPtr buildString(antlr4::Token* token);
  ast::ExprPtr buildParen(P::ParenAtomContext* ctx);
  ast::ExprPtr buildDict(P::DictAtomContext* ctx);
  ast::ExprPtr buildList(P::ListAtomContext* ctx);

  SourceRange rangeOf(antlr4::ParserRuleContext* ctx) const { return loc_.rangeOf(ctx); }
  SourceRange rangeOf(const antlr4::Token* token) const { return loc_.rangeOf(token); }
  SourceRange rangeOf(antlr4::tree::TerminalNode* node) const { return loc_.rangeOf(node->getSymbol()); }

  const TokenLocator& loc_;
  DiagnosticEngine& diags_;
  int tupleAssignments_ = 0;  // numbers the hidden names of tuple assignments (file order)
};

}  // namespace tlc::frontend
