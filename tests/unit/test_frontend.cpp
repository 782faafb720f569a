// Frontend unit tests: the grammar, the `//` rule, AST shapes and source ranges,
// the --emit=ast and --emit=tokens formats, syntax and lexical diagnostics, and
// hostile input (invalid UTF-8, deep nesting, big files).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "frontend/AST.h"
#include "frontend/Parser.h"

using namespace tlc;

namespace {

// One parse of `text` as file `name`, with everything a test may want to look at.
struct Parsed {
  std::unique_ptr<ast::File> file;
  std::vector<Diagnostic> diagnostics;
  std::string rendered;  // what the DiagnosticEngine printed

  // "line:col: message" of every error and note, in order.
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const Diagnostic& d : diagnostics) {
      std::string where = std::to_string(d.range.begin.line) + ":" + std::to_string(d.range.begin.column);
      out.push_back(where + ": " + (d.severity == Severity::Note ? "note: " : "") + d.message);
    }
    return out;
  }
  std::string firstMessage() const { return messages().empty() ? "" : messages()[0]; }
  std::string ast() const {
    std::ostringstream out;
    if (file) ast::print(*file, out);
    return out.str();
  }
};

Parsed parse(const std::string& text, const std::string& name = "t.tl") {
  SourceFile source(name, text);
  std::ostringstream sink;
  DiagnosticEngine diags(sink);
  diags.setFile(&source);
  Parsed result;
  result.file = parseFile(source, diags);
  result.diagnostics = diags.all();
  result.rendered = sink.str();
  return result;
}

// Parses `const X = <expr>;` and returns the printed tree of the value only
// (indent removed by one level), which makes precedence tests read well.
std::string exprTree(const std::string& expr) {
  Parsed parsed = parse("const X = " + expr + ";\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  std::istringstream lines(parsed.ast());
  std::string line, out;
  std::getline(lines, line);  // the Const line
  while (std::getline(lines, line)) out += line.substr(2) + "\n";
  return out;
}

const ast::Expr& constValue(const ast::File& file, size_t index = 0) {
  return *file.decls.at(index)->as<ast::ConstDecl>().value;
}

std::string at(const SourceLoc& loc) { return std::to_string(loc.line) + ":" + std::to_string(loc.column); }

}  // namespace

TEST_SUITE("frontend") {

TEST_CASE("every spec example parses") {
  namespace fs = std::filesystem;
  fs::path dir = TLC_SOURCE_DIR "/../shared/spec/examples";
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    MESSAGE("skipped: no spec examples at " << dir.string());
    return;
  }
  int count = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".tl") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Parsed parsed = parse(text.str(), entry.path().filename().string());
    CHECK_MESSAGE(parsed.file != nullptr, entry.path().filename().string() << "\n" << parsed.rendered);
    CHECK_MESSAGE(parsed.diagnostics.empty(), parsed.rendered);
    if (parsed.file) CHECK_FALSE(parsed.file->decls.empty());
    ++count;
  }
  CHECK(count > 0);
}

TEST_CASE("declarations, parameters and statements") {
  Parsed parsed = parse(
      "const BM = 128;\n"
      "macro m(t: Buffer((BM, BN), float32), f: float32,) { }\n"
      "kernel k(A: Tensor((M, N), float16), p: ptr(float32), X: StridedTensor((M,N),(ldx,1),bfloat16)) {\n"
      "  with Kernel(ceildiv(N, BN), threads=128) as (bx, by) {\n"
      "    for i, j in Parallel(BM, BN) { A[i, j] += 1; }\n"
      "    for k in Pipelined(K, num_stages=3) { }\n"
      "    if t % 2 == 0 { x = 1; } else if t > 3 { x = 2; } else { x = 3; }\n"
      "    with Kernel(1) as bz { { nested(); } }\n"
      "  }\n"
      "}\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  const ast::File& file = *parsed.file;
  REQUIRE(file.decls.size() == 3);
  CHECK(file.decls[0]->kind == ast::DeclKind::Const);
  CHECK(file.decls[1]->kind == ast::DeclKind::Macro);
  CHECK(file.decls[1]->as<ast::FunctionDecl>().params.size() == 2);  // trailing comma allowed
  const auto& kernel = file.decls[2]->as<ast::FunctionDecl>();
  CHECK(kernel.kind == ast::DeclKind::Kernel);
  CHECK(kernel.name == "k");
  REQUIRE(kernel.params.size() == 3);
  CHECK(kernel.params[1].name == "p");
  CHECK(kernel.params[1].type->kind == ast::ExprKind::Call);

  REQUIRE(kernel.body->stmts.size() == 1);
  const auto& with = kernel.body->stmts[0]->as<ast::With>();
  REQUIRE(with.bindings.size() == 2);
  CHECK(with.bindings[1].name == "by");
  const auto& call = with.context->as<ast::Call>();
  CHECK(call.args.size() == 1);
  REQUIRE(call.kwargs.size() == 1);
  CHECK(call.kwargs[0].name == "threads");

  const auto& stmts = with.body->stmts;
  REQUIRE(stmts.size() == 4);
  const auto& loop = stmts[0]->as<ast::For>();
  CHECK(loop.vars.size() == 2);
  const auto& update = loop.body->stmts.at(0)->as<ast::Assign>();
  CHECK(update.op == ast::AssignOp::Add);
  CHECK(update.target->kind == ast::ExprKind::Index);

  const auto& branch = stmts[2]->as<ast::If>();
  REQUIRE(branch.elseBody);
  REQUIRE(branch.elseBody->stmts.size() == 1);  // `else if` = a block holding one If
  const auto& elseIf = branch.elseBody->stmts[0]->as<ast::If>();
  CHECK(elseIf.elseBody != nullptr);

  const auto& single = stmts[3]->as<ast::With>();
  REQUIRE(single.bindings.size() == 1);
  CHECK(single.bindings[0].name == "bz");
  CHECK(single.body->stmts.at(0)->kind == ast::StmtKind::Block);
}

TEST_CASE("source ranges") {
  //                      1234567890123456789012345678901234567
  Parsed parsed = parse("const BM = 128;\n"
                        "kernel k(A: Tensor((M, N), float16)) {\n"
                        "  copy(A[by * BM, 0:n], s);\n"
                        "}\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  const auto& constant = parsed.file->decls[0]->as<ast::ConstDecl>();
  CHECK(at(constant.range.begin) == "1:1");
  CHECK(at(constant.range.end) == "1:16");  // just past `;`
  CHECK(at(constant.nameRange.begin) == "1:7");
  CHECK(at(constant.value->range.begin) == "1:12");
  CHECK(at(constant.value->range.end) == "1:15");

  const auto& kernel = parsed.file->decls[1]->as<ast::FunctionDecl>();
  CHECK(at(kernel.range.begin) == "2:1");
  CHECK(at(kernel.range.end) == "4:2");
  const ast::Param& param = kernel.params[0];
  CHECK(at(param.range.begin) == "2:10");
  CHECK(at(param.range.end) == "2:36");
  CHECK(at(param.type->range.begin) == "2:13");
  CHECK(at(param.type->as<ast::Call>().args[0]->range.begin) == "2:20");  // the tuple's `(`

  const auto& stmt = kernel.body->stmts.at(0)->as<ast::ExprStmt>();
  CHECK(at(stmt.range.begin) == "3:3");
  CHECK(at(stmt.range.end) == "3:28");
  const auto& call = stmt.expr->as<ast::Call>();
  CHECK(at(call.range.end) == "3:27");
  const auto& index = call.args[0]->as<ast::Index>();
  CHECK(at(index.range.begin) == "3:8");
  CHECK(at(index.range.end) == "3:23");
  const auto& product = index.items[0].value->as<ast::Binary>();
  CHECK(at(product.range.begin) == "3:10");
  CHECK(at(product.range.end) == "3:17");
  CHECK(at(product.opRange.begin) == "3:13");
  CHECK(index.items[1].isSlice);
  CHECK(at(index.items[1].range.begin) == "3:19");
  CHECK(at(index.items[1].range.end) == "3:22");
  // Byte offsets agree with line:col.
  CHECK(product.range.begin.offset == 16 + 39 + 9);
}

TEST_CASE("columns count bytes after non-ASCII text") {
  // `é` is two bytes: the name after it starts at byte column 17, code point column 16.
  Parsed parsed = parse("const S = \"é\"; const T = 1;\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  CHECK(parsed.file->decls[0]->as<ast::ConstDecl>().value->as<ast::StringLit>().value == "é");
  CHECK(at(parsed.file->decls[1]->range.begin) == "1:17");
  Parsed bad = parse("const S = \"é\"; $\n");
  CHECK(bad.firstMessage() == "1:17: unexpected character '$'");
}

TEST_CASE("precedence follows Python") {
  CHECK(exprTree("a + b * c") ==
        "Binary + @1:11\n"
        "  Name a @1:11\n"
        "  Binary * @1:15\n"
        "    Name b @1:15\n"
        "    Name c @1:19\n");
  CHECK(exprTree("-x ** 2") ==
        "Unary - @1:11\n"
        "  Binary ** @1:12\n"
        "    Name x @1:12\n"
        "    IntLit 2 @1:17\n");
  CHECK(exprTree("a < b and not c") ==
        "Binary and @1:11\n"
        "  Binary < @1:11\n"
        "    Name a @1:11\n"
        "    Name b @1:15\n"
        "  Unary not @1:21\n"
        "    Name c @1:25\n");
  CHECK(exprTree("2 ** 3 ** 2") ==  // right associative
        "Binary ** @1:11\n"
        "  IntLit 2 @1:11\n"
        "  Binary ** @1:16\n"
        "    IntLit 3 @1:16\n"
        "    IntLit 2 @1:21\n");
  CHECK(exprTree("2 ** -1") ==
        "Binary ** @1:11\n"
        "  IntLit 2 @1:11\n"
        "  Unary - @1:16\n"
        "    IntLit 1 @1:17\n");
  CHECK(exprTree("a - b - c") ==  // left associative
        "Binary - @1:11\n"
        "  Binary - @1:11\n"
        "    Name a @1:11\n"
        "    Name b @1:15\n"
        "  Name c @1:19\n");
  CHECK(exprTree("not a == b") ==
        "Unary not @1:11\n"
        "  Binary == @1:15\n"
        "    Name a @1:15\n"
        "    Name b @1:20\n");
  CHECK(exprTree("a | b ^ c & d << 1 + 2") ==
        "Binary | @1:11\n"
        "  Name a @1:11\n"
        "  Binary ^ @1:15\n"
        "    Name b @1:15\n"
        "    Binary & @1:19\n"
        "      Name c @1:19\n"
        "      Binary << @1:23\n"
        "        Name d @1:23\n"
        "        Binary + @1:28\n"
        "          IntLit 1 @1:28\n"
        "          IntLit 2 @1:32\n");
  CHECK(exprTree("a or b and c") ==
        "Binary or @1:11\n"
        "  Name a @1:11\n"
        "  Binary and @1:16\n"
        "    Name b @1:16\n"
        "    Name c @1:22\n");
  CHECK(exprTree("~x.y[0]") ==
        "Unary ~ @1:11\n"
        "  Index @1:12\n"
        "    base: Attribute .y @1:12\n"
        "      Name x @1:12\n"
        "    IntLit 0 @1:16\n");
  CHECK(parse("const X = x[0](1);").firstMessage() ==
        "1:11: only a name such as copy or an attribute such as Tensor.from_ptr can be called");
}

TEST_CASE("// is floor division after an operand on the same line, else a comment") {
  Parsed parsed = parse(
      "// a comment line\n"
      "kernel k() {\n"
      "  a = b // 2; // halve\n"
      "  // a comment; with ( unbalanced [ brackets and 'quotes\n"
      "  x = (y // 4) * 32 + j;\n"
      "  z //= 3;\n"
      "  w = f(a) // g[1] // 2;\n"
      "  v = c /* comment */ // 2;\n"
      "  u = d\n"
      "  // comment: the previous token is on another line\n"
      "  ;\n"
      "}\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  const auto& stmts = parsed.file->decls[0]->as<ast::FunctionDecl>().body->stmts;
  REQUIRE(stmts.size() == 6);
  auto value = [&](size_t i) -> const ast::Expr& { return *stmts[i]->as<ast::Assign>().value; };
  CHECK(value(0).as<ast::Binary>().op == ast::BinaryOp::FloorDiv);
  const auto& product = value(1).as<ast::Binary>().lhs->as<ast::Binary>();
  CHECK(product.lhs->as<ast::Binary>().op == ast::BinaryOp::FloorDiv);
  CHECK(stmts[2]->as<ast::Assign>().op == ast::AssignOp::FloorDiv);
  const auto& chain = value(3).as<ast::Binary>();
  CHECK(chain.op == ast::BinaryOp::FloorDiv);
  CHECK(chain.lhs->as<ast::Binary>().op == ast::BinaryOp::FloorDiv);
  CHECK(value(4).as<ast::Binary>().op == ast::BinaryOp::FloorDiv);
  CHECK(value(5).kind == ast::ExprKind::Name);
}

TEST_CASE("a // comment after an operand reads as division, with a note saying so") {
  Parsed parsed = parse("kernel k(A: T) // note\n{\n}\n");
  CHECK(parsed.file == nullptr);
  std::vector<std::string> messages = parsed.messages();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == "1:16: expected '{'");
  CHECK(messages[1].rfind("1:16: note: '//' right after an operand", 0) == 0);
}

TEST_CASE("literals") {
  CHECK(exprTree("0x1F") == "IntLit 31 (0x1F) @1:11\n");
  CHECK(exprTree("0b1_01") == "IntLit 5 (0b1_01) @1:11\n");
  CHECK(exprTree("1_000_000") == "IntLit 1000000 (1_000_000) @1:11\n");
  CHECK(exprTree("0o17") == "IntLit 15 (0o17) @1:11\n");
  CHECK(exprTree("18446744073709551615") == "IntLit 18446744073709551615 @1:11\n");
  CHECK(exprTree("2.") == "FloatLit 2. @1:11\n");
  CHECK(exprTree(".5") == "FloatLit .5 @1:11\n");
  CHECK(exprTree("1e-3") == "FloatLit 1e-3 @1:11\n");
  CHECK(exprTree("\"a\\n\\\"b\\x41\"") == "StringLit \"a\\n\\\"bA\" @1:11\n");
  CHECK(exprTree("True") == "BoolLit True @1:11\n");
  CHECK(exprTree("false") == "BoolLit False @1:11\n");

  Parsed floats = parse("const A = 2.; const B = .5; const C = 1e-3; const D = 2.5E+4;");
  REQUIRE(floats.file);
  CHECK(constValue(*floats.file, 0).as<ast::FloatLit>().value == 2.0);
  CHECK(constValue(*floats.file, 1).as<ast::FloatLit>().value == 0.5);
  CHECK(constValue(*floats.file, 2).as<ast::FloatLit>().value == doctest::Approx(1e-3));
  CHECK(constValue(*floats.file, 3).as<ast::FloatLit>().value == 25000.0);
}

TEST_CASE("tuples, parentheses, dicts, slices, lambdas") {
  CHECK(exprTree("()") == "Tuple @1:11\n");
  CHECK(exprTree("(a,)") == "Tuple @1:11\n  Name a @1:12\n");
  CHECK(exprTree("(a)") == "Name a @1:12\n");  // parentheses are not a tuple
  CHECK(exprTree("(a, b,)") == "Tuple @1:11\n  Name a @1:12\n  Name b @1:15\n");
  CHECK(exprTree("{A_s: swizzled(A_s, 128)}") ==
        "Dict @1:11\n"
        "  key: Name A_s @1:12\n"
        "  value: Call @1:17\n"
        "    callee: Name swizzled @1:17\n"
        "    Name A_s @1:26\n"
        "    IntLit 128 @1:31\n");
  CHECK(exprTree("A[i, a:b, :, lo:, :hi]") ==
        "Index @1:11\n"
        "  base: Name A @1:11\n"
        "  Name i @1:13\n"
        "  Slice @1:16\n"
        "    lo: Name a @1:16\n"
        "    hi: Name b @1:18\n"
        "  Slice @1:21\n"
        "  Slice @1:24\n"
        "    lo: Name lo @1:24\n"
        "  Slice @1:29\n"
        "    hi: Name hi @1:30\n");
  CHECK(exprTree("F((BM, BN), thread=(i, j) -> (i // 4) * 32 + j)") ==
        "Call @1:11\n"
        "  callee: Name F @1:11\n"
        "  Tuple @1:13\n"
        "    Name BM @1:14\n"
        "    Name BN @1:18\n"
        "  Keyword thread @1:23\n"
        "    Lambda @1:30\n"
        "      param i @1:31\n"
        "      param j @1:34\n"
        "      body: Binary + @1:40\n"
        "        Binary * @1:40\n"
        "          Binary // @1:41\n"
        "            Name i @1:41\n"
        "            IntLit 4 @1:46\n"
        "          IntLit 32 @1:51\n"
        "        Name j @1:56\n");
  CHECK(exprTree("() -> 1") == "Lambda @1:11\n  body: IntLit 1 @1:17\n");
  CHECK(exprTree("i -> i") == "Lambda @1:11\n  param i @1:11\n  body: Name i @1:16\n");
  CHECK(exprTree("Tensor.from_ptr(p)") ==
        "Call @1:11\n"
        "  callee: Attribute .from_ptr @1:11\n"
        "    Name Tensor @1:11\n"
        "  Name p @1:27\n");
}

TEST_CASE("spelling") {
  CHECK(std::string(ast::spelling(ast::BinaryOp::FloorDiv)) == "//");
  CHECK(std::string(ast::spelling(ast::BinaryOp::Pow)) == "**");
  CHECK(std::string(ast::spelling(ast::BinaryOp::And)) == "and");
  CHECK(std::string(ast::spelling(ast::UnaryOp::Not)) == "not");
  CHECK(std::string(ast::spelling(ast::UnaryOp::BitNot)) == "~");
  CHECK(std::string(ast::spelling(ast::AssignOp::Shr)) == ">>=");
  CHECK(std::string(ast::spelling(ast::AssignOp::Set)) == "=");
}

TEST_CASE("empty and comment-only files are valid") {
  Parsed empty = parse("");
  REQUIRE(empty.file);
  CHECK(empty.file->decls.empty());
  CHECK(empty.diagnostics.empty());
  Parsed comments = parse("// nothing\n/* at\n all */\n   \n");
  REQUIRE(comments.file);
  CHECK(comments.file->decls.empty());
}

TEST_CASE("invalid UTF-8 is reported at the bad byte") {
  Parsed parsed = parse("const X = 1;\n// caf\xc3\xa9 ok\nconst Y = \"a\xff\";\n");
  CHECK(parsed.file == nullptr);
  CHECK(parsed.messages() == std::vector<std::string>{"3:13: invalid UTF-8 (byte 0xff)"});
  // A truncated sequence at end of file, an overlong form, a surrogate.
  CHECK(parse("const X = 1; // \xe2\x82").firstMessage() == "1:17: invalid UTF-8 (byte 0xe2)");
  CHECK(parse("\xc0\xaf").firstMessage() == "1:1: invalid UTF-8 (byte 0xc0)");
  CHECK(parse("// \xed\xa0\x80").firstMessage() == "1:4: invalid UTF-8 (byte 0xed)");
  std::ostringstream tokens;
  SourceFile source("t.tl", "\x80");
  std::ostringstream sink;
  DiagnosticEngine diags(sink);
  diags.setFile(&source);
  CHECK_FALSE(dumpTokens(source, diags, tokens));
  CHECK(diags.errorCount() == 1);
}

TEST_CASE("deep nesting is a diagnostic, never a crash") {
  auto nested = [](int depth) {
    return "const X = " + std::string(depth, '(') + "1" + std::string(depth, ')') + ";\n";
  };
  Parsed ok = parse(nested(255));
  CHECK_MESSAGE(ok.file, ok.rendered);

  const std::string tooDeep = "1:267: expression nested too deeply (more than 256 levels)";
  CHECK(parse(nested(500)).messages() == std::vector<std::string>{tooDeep});
  CHECK(parse(nested(100000)).messages() == std::vector<std::string>{tooDeep});
  CHECK(parse("const X = " + std::string(100000, '[')).messages() == std::vector<std::string>{tooDeep});
  CHECK(parse("kernel k() " + std::string(100000, '{')).firstMessage() ==
        "1:268: expression nested too deeply (more than 256 levels)");

  // Nesting without brackets: prefix operators, `**`, lambdas, else-if chains.
  CHECK(parse("const X = " + std::string(100000, '-') + "1;").messages() == std::vector<std::string>{tooDeep});
  std::string powers;
  for (int i = 0; i < 100000; ++i) powers += "2 ** ";
  CHECK_FALSE(parse("const X = " + powers + "1;").file);
  std::string elses = "kernel k() {\n";
  for (int i = 0; i < 100000; ++i) elses += "if a { } else ";
  CHECK_FALSE(parse(elses + "{ }\n}\n").file);

  // Many statements side by side are not nesting.
  std::string siblings = "kernel k() {\n";
  for (int i = 0; i < 300; ++i) siblings += "  if a { } else { }\n  for i in x { }\n  y = -a * -b + -c;\n";
  Parsed flat = parse(siblings + "}\n");
  CHECK_MESSAGE(flat.file, flat.rendered);
  std::string products = "const X = -a";
  for (int i = 0; i < 300; ++i) products += " * -a";
  CHECK(parse(products + ";").file != nullptr);

  // Long operator chains nest the tree without brackets.
  std::string sum = "const X = 1";
  for (int i = 0; i < 1000; ++i) sum += " + 1";
  CHECK(parse(sum + ";").file != nullptr);
  for (int i = 0; i < 20000; ++i) sum += " + 1";
  CHECK(parse(sum + ";").messages() ==
        std::vector<std::string>{"1:11: expression too complex (more than 1024 nested operations); "
                                 "split it with intermediate variables"});
  std::string calls = "const X = f";
  for (int i = 0; i < 100000; ++i) calls += "(1)";
  CHECK_FALSE(parse(calls + ";").file);
}

TEST_CASE("a 1 MB file parses") {
  std::string text = "kernel big(A: Tensor((M, N), float16)) {\n  with Kernel(1, threads=128) as (bx, by) {\n";
  for (int i = 0; text.size() < (1u << 20); ++i)
    text += "    a" + std::to_string(i) + " = copy(A[by * BM + " + std::to_string(i) +
            ", bx * BN], a_s, coalesced_width=8); // note " + std::to_string(i) + "\n";
  text += "  }\n}\n";
  Parsed parsed = parse(text);
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  const auto& with = parsed.file->decls[0]->as<ast::FunctionDecl>().body->stmts[0]->as<ast::With>();
  CHECK(with.body->stmts.size() > 10000);
}

TEST_CASE("syntax errors: one per mistake, in our words, at the right place") {
  auto messages = [](const std::string& text) { return parse(text).messages(); };
  using List = std::vector<std::string>;

  CHECK(messages("kernel k() {\n  a = b\n  c = d;\n}\n") == List{"2:8: expected ';' after expression"});
  CHECK(messages("const X = 3\nconst Y = 4;\n") == List{"1:12: expected ';' after expression"});
  CHECK(messages("kernel k() {\n  a = ;\n}\n") == List{"2:7: expected an expression"});
  CHECK(messages("kernel k() {\n  copy(a, b));\n}\n") == List{"2:13: unexpected ')'"});
  CHECK(messages("kernel k() {\n  }\n}\n") == List{"3:1: unexpected '}'"});
  CHECK(messages("kernel k() {\n  copy(a, b;\n}\n") ==
        List{"2:12: expected ')'", "2:7: note: to match this '('"});
  CHECK(messages("kernel k() {\n  copy(a, b);\n") ==
        List{"3:1: expected '}' at end of file", "1:12: note: to match this '{'"});
  CHECK(messages("macro m(a: int32 {\n}\n") == List{"1:18: expected ')'"});
  CHECK(messages("kernel k() {\n  a = ;\n") ==
        List{"2:7: expected an expression", "3:1: expected '}' at end of file", "1:12: note: to match this '{'"});
  CHECK(messages("foo bar;\nkernel k() { }\n") == List{"1:1: expected 'const', 'macro' or 'kernel'"});
  CHECK(messages("const = 5;\n") == List{"1:7: expected a name"});
  CHECK(messages("kernel k() {\n  for in x { }\n}\n") == List{"2:7: unexpected 'in'; expected a name"});
  CHECK(messages("kernel k() {\n  for i in range(3) x = 1;\n}\n") == List{"2:21: expected '{'"});
  CHECK(messages("kernel k() {\n  if a { } else b = 1;\n}\n") == List{"2:17: expected 'if' or '{'"});
  CHECK(messages("kernel k() {\n  with Kernel(1) as { }\n}\n") == List{"2:21: expected a name or '('"});
  CHECK(messages("kernel k() {\n  a = b c;\n}\n") == List{"2:9: unexpected 'c'; expected ',' or ';'"});

  CHECK(messages("kernel k() {\n  f(a b);\n}\n") == List{"2:7: unexpected 'b'; expected ',' or ')'"});
  CHECK(messages("kernel k() {\n  x = A[i j];\n}\n") == List{"2:11: unexpected 'j'; expected ',' or ']'"});
  CHECK(messages("kernel k() {\n  f(a,, b);\n}\n") == List{"2:7: unexpected ','"});
  CHECK(messages("kernel k(A Tensor) { }\n") == List{"1:12: expected ':'"});
  CHECK(messages("kernel k() {\n  with Kernel(1) { }\n}\n").empty());  // `as` is optional
  CHECK(messages("kernel k() {\n  with Kernel(1) bx { }\n}\n") == List{"2:18: unexpected 'bx'; expected 'as' or '{'"});
  CHECK(messages("kernel k() {\n  x = 1;;\n}\n") == List{"2:9: unexpected ';'; expected a statement or '}'"});
  CHECK(messages("kernel k() {\n  x = 1 +\n}\n") == List{"3:1: expected an expression"});

  // Recovery skips the broken statement as a whole (blocks and else branches too),
  // so the braces after it still pair up: no cascade.
  CHECK(messages("kernel k() {\n  if t % 2 =,= 0 {\n    a = 1;\n  } else {\n    b = 2;\n  }\n  c = 3;\n}\n"
                 "kernel j() { }\n") == List{"2:12: expected '{'"});
  CHECK(messages("kernel k() {\n  for i in range(3) x = 1;\n  y = 2;\n}\nconst Z = 1;\n") ==
        List{"2:21: expected '{'"});
  CHECK(messages("kernel k(A: Tensor((M, N) float16)) {\n  x = 1;\n}\nconst Z = 1 2;\n") ==
        List{"1:27: unexpected 'float16'; expected ',' or ')'", "4:13: unexpected '2'; expected ';'"});

  // Two separate mistakes in two statements: two errors.
  CHECK(messages("kernel k() {\n  a = ;\n  b = 1 +;\n}\n") ==
        List{"2:7: expected an expression", "3:10: expected an expression"});

  // Errors the grammar cannot express.
  CHECK(messages("kernel k() {\n  f(x) = 3;\n}\n") ==
        List{"2:3: cannot assign to this expression: the target must be a name or an element such as A[i, j]"});
  CHECK(messages("kernel k() {\n  f(a=1, b);\n}\n") == List{"2:10: positional argument after keyword argument 'a'"});
  CHECK(messages("kernel k() {\n  f(a=1, a=2);\n}\n") == List{"2:10: duplicate keyword argument 'a'"});
  CHECK(messages("kernel k(a: int32, a: int32) { }\n") == List{"1:20: duplicate parameter 'a'"});
  CHECK(messages("const S = 99999999999999999999999;\n") ==
        List{"1:11: integer literal '99999999999999999999999' does not fit in 64 bits"});
  CHECK(messages("const S = \"a\\qb\";\n") ==
        List{"1:13: unknown escape sequence '\\q' (known: \\n \\t \\r \\0 \\\\ \\\" \\' \\xNN)"});
}

TEST_CASE("many errors stay fast") {
  // Each report used to copy the whole token stream: quadratic in the error count.
  std::string text = "kernel k() {\n";
  for (int i = 0; i < 20000; ++i) text += "  x = = 1;\n";
  Parsed parsed = parse(text + "}\n");
  CHECK(parsed.file == nullptr);
  CHECK(parsed.diagnostics.size() == 20000);
}

TEST_CASE("lexical errors") {
  auto messages = [](const std::string& text) { return parse(text).messages(); };
  using List = std::vector<std::string>;
  CHECK(messages("kernel k() {\n  a = $b;\n  c = @;\n}\n") ==
        List{"2:7: unexpected character '$'", "3:7: unexpected character '@'"});
  CHECK(messages("const S = 'x';\n") == List{"1:11: strings use double quotes: \"x\""});
  CHECK(messages("const S = \"abc;\n") == List{"1:11: unterminated string: missing closing '\"' on this line"});
  CHECK(messages("const S = 1; /* no end\n") == List{"1:14: unterminated comment: missing '*/'"});
  CHECK(messages("const X = 12abc;\n") == List{"1:11: invalid number '12abc'"});
  CHECK(messages(std::string("const X = \0;\n", 13)) == List{"1:11: unexpected character '\\x00'"});
  CHECK(messages("const X = \xc2\xa0 1;\n") == List{"1:11: unexpected character '\xc2\xa0' (U+00A0)"});
  // A byte-order mark is white space.
  CHECK(parse("\xef\xbb\xbf" "const X = 1;\n").file != nullptr);
}

TEST_CASE("the rendered diagnostic has file, line, column and caret") {
  Parsed parsed = parse("kernel k() {\n  a = b\n  c = d;\n}\n", "fail_missing_semicolon.tl");
  CHECK(parsed.rendered ==
        "fail_missing_semicolon.tl:2:8: error: expected ';' after expression\n"
        " 2 |   a = b\n"
        "   |        ^\n");
}

TEST_CASE("--emit=tokens format") {
  SourceFile source("t.tl", "const BM = 0x80; // c\nx = a // 2;\n");
  std::ostringstream sink, out;
  DiagnosticEngine diags(sink);
  diags.setFile(&source);
  REQUIRE(dumpTokens(source, diags, out));
  CHECK(out.str() ==
        "1:1 CONST 'const'\n"
        "1:7 NAME 'BM'\n"
        "1:10 ASSIGN '='\n"
        "1:12 INT '0x80'\n"
        "1:16 SEMI ';'\n"
        "2:1 NAME 'x'\n"
        "2:3 ASSIGN '='\n"
        "2:5 NAME 'a'\n"
        "2:7 FLOORDIV '//'\n"
        "2:10 INT '2'\n"
        "2:11 SEMI ';'\n"
        "3:1 EOF ''\n");

  SourceFile bad("t.tl", "a $ b");
  DiagnosticEngine badDiags(sink);
  badDiags.setFile(&bad);
  std::ostringstream badOut;
  CHECK_FALSE(dumpTokens(bad, badDiags, badOut));
  CHECK(badOut.str().find("1:3 ERR_UNEXPECTED_CHAR '$'") != std::string::npos);
}

TEST_CASE("--emit=ast format") {
  Parsed parsed = parse("const BM = 64;\n"
                        "kernel k(A: Tensor((M,), DT)) {\n"
                        "  with Kernel(1, threads=32) as (bx) {\n"
                        "    for i in Parallel(BM) { A[i] = -A[i]; }\n"
                        "    if bx == 0 { f(\"s\"); } else { }\n"
                        "  }\n"
                        "}\n");
  REQUIRE_MESSAGE(parsed.file, parsed.rendered);
  CHECK(parsed.ast() ==
        "Const BM @1:1\n"
        "  IntLit 64 @1:12\n"
        "Kernel k @2:1\n"
        "  Param A @2:10\n"
        "    type: Call @2:13\n"
        "      callee: Name Tensor @2:13\n"
        "      Tuple @2:20\n"
        "        Name M @2:21\n"
        "      Name DT @2:26\n"
        "  body: Block @2:31\n"
        "    With @3:3\n"
        "      context: Call @3:8\n"
        "        callee: Name Kernel @3:8\n"
        "        IntLit 1 @3:15\n"
        "        Keyword threads @3:18\n"
        "          IntLit 32 @3:26\n"
        "      as bx @3:34\n"
        "      body: Block @3:38\n"
        "        For @4:5\n"
        "          var i @4:9\n"
        "          in: Call @4:14\n"
        "            callee: Name Parallel @4:14\n"
        "            Name BM @4:23\n"
        "          body: Block @4:27\n"
        "            Assign = @4:29\n"
        "              Index @4:29\n"
        "                base: Name A @4:29\n"
        "                Name i @4:31\n"
        "              Unary - @4:36\n"
        "                Index @4:37\n"
        "                  base: Name A @4:37\n"
        "                  Name i @4:39\n"
        "        If @5:5\n"
        "          cond: Binary == @5:8\n"
        "            Name bx @5:8\n"
        "            IntLit 0 @5:14\n"
        "          then: Block @5:16\n"
        "            ExprStmt @5:18\n"
        "              Call @5:18\n"
        "                callee: Name f @5:18\n"
        "                StringLit \"s\" @5:20\n"
        "          else: Block @5:33\n");
}

}  // TEST_SUITE
