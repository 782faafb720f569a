// Parser: parseFile and dumpTokens, the frontend's entry points (see Parser.h).
//
// The pipeline for one file, each stage stopping at its first kind of trouble:
//   1. UTF-8 check and decode (ours, so a bad byte gets its exact line:col;
//      ANTLR's own decoder would throw std::range_error with no position).
//   2. Lex everything (at most kMaxTokens tokens). Stray characters, unterminated strings/comments and bad numbers
//      are ERR_* tokens (see grammar/Tile.g4), reported here in our words.
//   3. A token pre-pass: brackets must match, and nesting must stay within
//      kMaxNesting levels (checkBracketsAndNesting), which bounds the recursion of ANTLR's recursive descent
//      (500 or 100000 nested parentheses get a diagnostic, not a stack overflow).
//   4. Parse with our error strategy: messages in our own words, one per mistake.
//   5. Bound the expression depth of the tree (long `a + b + ...` chains nest
//      without brackets), then build the AST (AstBuilder).
// Stages 2-5 run on a thread with a large stack, as a second line of defence for
// the recursive parts. Nothing throws out of this file.
#include "frontend/Parser.h"

#include <pthread.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "TileLexer.h"
#include "TileParser.h"
#include "antlr4-runtime.h"
#include "frontend/AstBuilder.h"

namespace tlc {

namespace {

using grammar::TileLexer;
using grammar::TileParser;
using frontend::TokenLocator;

// Bracket plus operator nesting allowed by the pre-pass; see checkBracketsAndNesting.
constexpr unsigned kMaxNesting = 256;
// Depth of the expression tree allowed after parsing (`a + b + c ...` has no brackets).
constexpr unsigned kMaxExpressionDepth = 1024;
// Tokens lexed from one file at most. Each costs about 260 bytes with the parse that
// follows, so a few MB of `;;;;` would otherwise take gigabytes; a file of 1000
// kernels has about 150,000 tokens.
constexpr size_t kMaxTokens = 2'000'000;
// Stack for stages 2-5. Only the pages actually touched are ever committed.
constexpr size_t kParserStackBytes = size_t(256) << 20;

// ---------------------------------------------------------------- UTF-8

struct DecodedText {
  std::u32string codePoints;
  // Byte offset of each code point plus one entry for the end; empty when the text
  // is pure ASCII (then code point index == byte offset).
  std::vector<uint32_t> byteOffsets;
};

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Returns the
// offset of the first byte that is not part of a valid sequence, or nullopt.
std::optional<uint32_t> decodeUtf8(const std::string& text, DecodedText& out) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t size = text.size();
  bool ascii = true;
  for (size_t i = 0; i < size && ascii; ++i) ascii = bytes[i] < 0x80;
  out.codePoints.reserve(size);
  if (ascii) {
    out.codePoints.assign(text.begin(), text.end());
    return std::nullopt;
  }
  out.byteOffsets.reserve(size + 1);
  for (size_t i = 0; i < size;) {
    unsigned char lead = bytes[i];
    char32_t cp = 0;
    size_t length = 0;
    char32_t minimum = 0;
    if (lead < 0x80) { cp = lead; length = 1; }
    else if ((lead & 0xE0) == 0xC0) { cp = lead & 0x1F; length = 2; minimum = 0x80; }
    else if ((lead & 0xF0) == 0xE0) { cp = lead & 0x0F; length = 3; minimum = 0x800; }
    else if ((lead & 0xF8) == 0xF0) { cp = lead & 0x07; length = 4; minimum = 0x10000; }
    else return (uint32_t)i;
    for (size_t k = 1; k < length; ++k) {
      if (i + k >= size || (bytes[i + k] & 0xC0) != 0x80) return (uint32_t)i;  // truncated sequence
      cp = (cp << 6) | (bytes[i + k] & 0x3F);
    }
    if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (uint32_t)i;
    out.codePoints.push_back(cp);
    out.byteOffsets.push_back((uint32_t)i);
    i += length;
  }
  out.byteOffsets.push_back((uint32_t)size);
  return std::nullopt;
}

// An ANTLR char stream over code points we decoded ourselves.
class DecodedCharStream : public antlr4::ANTLRInputStream {
 public:
  DecodedCharStream(std::u32string codePoints, const std::string& sourceName) {
    _data = std::move(codePoints);
    p = 0;
    name = sourceName;
  }
};

bool reportInvalidUtf8(const SourceFile& file, DiagnosticEngine& diags, DecodedText& decoded) {
  std::optional<uint32_t> bad = decodeUtf8(file.text(), decoded);
  if (!bad) return false;
  char message[64];
  std::snprintf(message, sizeof message, "invalid UTF-8 (byte 0x%02x)",
                (unsigned)(unsigned char)file.text()[*bad]);
  diags.error(SourceRange{file.locationOf(*bad), file.locationOf(*bad + 1)}, message);
  return true;
}

// ---------------------------------------------------------------- lexing

// The lexed file: input, lexer and the filled token stream, which live together.
struct LexedFile {
  LexedFile(std::u32string codePoints, const std::string& path)
      : input(std::move(codePoints), path), lexer(&input), tokens(&lexer) {
    lexer.removeErrorListeners();  // the ERR_* catch-all rules leave nothing to report
    // fill(), but stopping one token past kMaxTokens.
    while (tokens.size() <= kMaxTokens && tokens.LA(1) != antlr4::Token::EOF) tokens.consume();
    tooManyTokens = tokens.LA(1) != antlr4::Token::EOF;
    tokens.seek(0);
  }
  DecodedCharStream input;
  TileLexer lexer;
  antlr4::CommonTokenStream tokens;
  bool tooManyTokens = false;  // lexing stopped at kMaxTokens: report, parse nothing
};

bool reportTooManyTokens(LexedFile& lexed, const TokenLocator& locator, DiagnosticEngine& diags) {
  if (!lexed.tooManyTokens) return false;
  diags.error(locator.rangeOf(lexed.tokens.get(kMaxTokens)),
              "more than " + std::to_string(kMaxTokens) + " tokens in one file, the most tlc reads (split the file)");
  return true;
}

// The first code point of valid UTF-8 text (the lexer's text always is).
char32_t firstCodePoint(const std::string& utf8) {
  DecodedText decoded;
  decodeUtf8(utf8, decoded);
  return decoded.codePoints.empty() ? 0 : decoded.codePoints[0];
}

// A character as a message shows it: '$', '\x01', 'é' (U+00E9).
std::string describeCharacter(const std::string& utf8, char32_t cp) {
  char buffer[32];
  if (cp >= 0x20 && cp < 0x7F) return "'" + utf8 + "'";
  if (cp < 0x80) {
    std::snprintf(buffer, sizeof buffer, "'\\x%02x'", (unsigned)cp);
    return buffer;
  }
  std::snprintf(buffer, sizeof buffer, " (U+%04X)", (unsigned)cp);
  return "'" + utf8 + "'" + buffer;
}

// Reports every ERR_* token; returns true when there was one.
bool reportLexicalErrors(LexedFile& lexed, const TokenLocator& locator, DiagnosticEngine& diags) {
  bool any = false;
  for (antlr4::Token* token : lexed.tokens.getTokens()) {
    SourceRange range = locator.rangeOf(token);
    switch (token->getType()) {
      case TileLexer::ERR_UNEXPECTED_CHAR: {
        char32_t cp = firstCodePoint(token->getText());
        std::string message = "unexpected character " + describeCharacter(token->getText(), cp);
        diags.error(range, message);
        break;
      }
      case TileLexer::ERR_UNTERMINATED_STRING:
        diags.error(range, "unterminated string: missing closing '\"' on this line");
        break;
      case TileLexer::ERR_UNTERMINATED_COMMENT:
        diags.error(SourceRange{range.begin, locator.file().locationOf(range.begin.offset + 2)},
                    "unterminated comment: missing '*/'");
        break;
      case TileLexer::ERR_SINGLE_QUOTED_STRING: {
        std::string text = token->getText();
        diags.error(range, "strings use double quotes: \"" + text.substr(1, text.size() - 2) + "\"");
        break;
      }
      case TileLexer::ERR_BAD_NUMBER:
        diags.error(range, "invalid number '" + token->getText() + "'");
        break;
      default:
        continue;
    }
    any = true;
  }
  return any;
}

// ---------------------------------------------------------------- nesting pre-pass

bool endsOperand(size_t type) {
  switch (type) {
    case TileLexer::NAME: case TileLexer::INT: case TileLexer::FLOAT: case TileLexer::STRING:
    case TileLexer::BOOL: case TileLexer::RPAREN: case TileLexer::RBRACKET: case TileLexer::RBRACE:
      return true;
    default:
      return false;
  }
}

size_t closerFor(size_t opener) {
  switch (opener) {
    case TileLexer::LPAREN: return TileLexer::RPAREN;
    case TileLexer::LBRACKET: return TileLexer::RBRACKET;
    default: return TileLexer::RBRACE;
  }
}

const char* closerText(size_t opener) {
  switch (opener) {
    case TileLexer::LPAREN: return "')'";
    case TileLexer::LBRACKET: return "']'";
    default: return "'}'";
  }
}

// Checks that brackets match and bounds how deeply the parser will recurse.
// Recursion in the grammar comes from brackets, prefix operators (- + ~ not), the
// right operand of `**`, lambda bodies (`->`) and `else if` chains. Per open bracket
// we count the pending ones since the last `,` `;` `:` (which end an operand); a
// binary operator looser than unary ends pending prefix operators and `**` operands,
// `and`/`or` also end pending `not`s, and a statement keyword (`for`, `with`, an `if`
// not after `else`) ends them all. Levels = brackets + all pending counts.
// Reports the first problem only. A bracket still open at end of file is not
// reported here but returned in `unclosed`: the parser usually finds the spot where
// the closer is missing, and this report is the fallback (see parseDecoded).
enum class BracketCheck { Ok, Error, UnclosedAtEof };
BracketCheck checkBracketsAndNesting(antlr4::CommonTokenStream& tokens, const TokenLocator& locator,
                                     DiagnosticEngine& diags, antlr4::Token** unclosed) {
  struct Level {
    antlr4::Token* opener = nullptr;
    unsigned tight = 0;  // pending prefix - + ~ and `**` right operands
    unsigned nots = 0;   // pending `not`
    unsigned loose = 0;  // pending lambda bodies and `else` branches
    unsigned total() const { return tight + nots + loose; }
  };
  std::vector<Level> stack(1);
  unsigned nesting = 0;  // brackets + pending operators over the whole stack
  size_t previousType = 0;

  auto tooDeep = [&](antlr4::Token* token) {
    diags.error(locator.rangeOf(token),
                "expression nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)");
    return BracketCheck::Error;
  };
  auto expectedCloser = [&](antlr4::Token* at, const Level& level) {
    diags.error(locator.rangeOf(at), std::string("expected ") + closerText(level.opener->getType()));
    diags.note(locator.rangeOf(level.opener), "to match this '" + level.opener->getText() + "'");
    return BracketCheck::Error;
  };
  auto unexpected = [&](antlr4::Token* token) {
    diags.error(locator.rangeOf(token), "unexpected '" + token->getText() + "'");
    return BracketCheck::Error;
  };
  // Whether some open bracket on the stack is closed by `closer`.
  auto isOpen = [&](size_t closer) {
    for (size_t i = 1; i < stack.size(); ++i)
      if (closerFor(stack[i].opener->getType()) == closer) return true;
    return false;
  };

  for (antlr4::Token* token : tokens.getTokens()) {
    size_t type = token->getType();
    Level& top = stack.back();
    switch (type) {
      case TileLexer::LPAREN: case TileLexer::LBRACKET: case TileLexer::LBRACE:
        stack.push_back(Level{token});
        if (++nesting > kMaxNesting) return tooDeep(token);
        break;
      case TileLexer::RPAREN: case TileLexer::RBRACKET: case TileLexer::RBRACE:
        if (stack.size() == 1 || closerFor(top.opener->getType()) != type) {
          // A closer nothing open wants is one too many; else the innermost opener
          // is the one left unclosed.
          if (!isOpen(type)) return unexpected(token);
          return expectedCloser(token, top);
        }
        nesting -= top.total() + 1;
        stack.pop_back();
        break;
      case TileLexer::SEMI:
        // `;` only ever appears directly inside a block's braces.
        if (stack.size() > 1 && top.opener->getType() != TileLexer::LBRACE) return expectedCloser(token, top);
        [[fallthrough]];
      case TileLexer::COMMA: case TileLexer::COLON:
        nesting -= top.total();
        top.tight = top.nots = top.loose = 0;
        break;
      case TileLexer::MINUS: case TileLexer::PLUS: case TileLexer::TILDE:
        if (!endsOperand(previousType)) {  // prefix
          ++top.tight;
          if (++nesting > kMaxNesting) return tooDeep(token);
          break;
        }
        nesting -= top.tight;  // binary + or -
        top.tight = 0;
        break;
      case TileLexer::POW:
        ++top.tight;
        if (++nesting > kMaxNesting) return tooDeep(token);
        break;
      case TileLexer::NOT:
        ++top.nots;
        if (++nesting > kMaxNesting) return tooDeep(token);
        break;
      case TileLexer::ARROW: case TileLexer::ELSE:
        ++top.loose;
        if (++nesting > kMaxNesting) return tooDeep(token);
        break;
      case TileLexer::IF: case TileLexer::FOR: case TileLexer::WITH:
        // A new statement (an `if` not part of `else if`): earlier chains have ended.
        if (type == TileLexer::IF && previousType == TileLexer::ELSE) break;
        nesting -= top.total();
        top.tight = top.nots = top.loose = 0;
        break;
      case TileLexer::AND: case TileLexer::OR:
        nesting -= top.tight + top.nots;
        top.tight = top.nots = 0;
        break;
      case TileLexer::STAR: case TileLexer::SLASH: case TileLexer::FLOORDIV: case TileLexer::PERCENT:
      case TileLexer::SHL: case TileLexer::SHR: case TileLexer::AMP: case TileLexer::CARET:
      case TileLexer::PIPE: case TileLexer::LT: case TileLexer::LE: case TileLexer::GT:
      case TileLexer::GE: case TileLexer::EQ: case TileLexer::NE:
        nesting -= top.tight;
        top.tight = 0;
        break;
      case antlr4::Token::EOF:
        if (stack.size() > 1) {
          *unclosed = stack.back().opener;
          return BracketCheck::UnclosedAtEof;
        }
        break;
      default:
        break;
    }
    previousType = type;
  }
  return BracketCheck::Ok;
}

void reportUnclosedAtEof(antlr4::Token* opener, const TokenLocator& locator, DiagnosticEngine& diags) {
  uint32_t size = (uint32_t)locator.file().text().size();
  SourceRange end{locator.file().locationOf(size), locator.file().locationOf(size)};
  diags.error(end, std::string("expected ") + closerText(opener->getType()) + " at end of file");
  diags.note(locator.rangeOf(opener), "to match this '" + opener->getText() + "'");
}

// ---------------------------------------------------------------- syntax errors

bool isExpressionRule(size_t rule) {
  switch (rule) {
    case TileParser::RuleExpression: case TileParser::RuleExpr: case TileParser::RuleAtom:
    case TileParser::RuleArgument: case TileParser::RuleSubscript: case TileParser::RuleLambdaParams:
    case TileParser::RuleDictEntry:
      return true;
    default:
      return false;
  }
}

// Tokens that could be words of an English comment.
bool isWord(size_t type) {
  switch (type) {
    case TileParser::NAME: case TileParser::INT: case TileParser::FLOAT: case TileParser::BOOL:
    case TileParser::AND: case TileParser::OR: case TileParser::NOT: case TileParser::IN:
    case TileParser::IF: case TileParser::ELSE: case TileParser::FOR: case TileParser::WITH:
    case TileParser::AS:
      return true;
    default:
      return false;
  }
}

// A token as messages quote it.
std::string describeToken(const antlr4::Token* token) {
  if (token->getType() == antlr4::Token::EOF) return "end of file";
  return "'" + token->getText() + "'";
}

// What a parser state expects, in words, or "" when the set is too varied to say.
std::string describeExpected(const antlr4::misc::IntervalSet& expected, const antlr4::dfa::Vocabulary& vocabulary) {
  auto has = [&](size_t type) { return expected.contains(type); };
  if (has(TileParser::CONST) && has(TileParser::KERNEL)) return "'const', 'macro' or 'kernel'";
  if (has(TileParser::WITH) && has(TileParser::FOR)) return has(TileParser::RBRACE) ? "a statement or '}'" : "a statement";
  if (has(TileParser::INT) && has(TileParser::NAME)) return "an expression";

  std::vector<std::string> names;
  for (ssize_t type : expected.toList()) {
    if (type == (ssize_t)antlr4::Token::EOF) continue;
    switch (type) {
      case TileParser::NAME: names.push_back("a name"); break;
      case TileParser::INT: names.push_back("an integer"); break;
      case TileParser::FLOAT: names.push_back("a number"); break;
      case TileParser::STRING: names.push_back("a string"); break;
      default: names.push_back(vocabulary.getLiteralName((size_t)type));  // already quoted: ';'
    }
  }
  if (names.empty() || names.size() > 3) return "";
  std::string text = names[0];
  for (size_t i = 1; i < names.size(); ++i) text += (i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

bool startsOperand(size_t type) {
  switch (type) {
    case TileParser::NAME: case TileParser::INT: case TileParser::FLOAT: case TileParser::STRING:
    case TileParser::BOOL: case TileParser::LPAREN:
      return true;
    default:
      return false;
  }
}

// describeExpected, knowing what came instead: an operand where a list could close
// (`f(a b)`) most likely lacks a comma; a stray comma (`f(a,, b)`) is just that.
std::string describeWanted(const antlr4::misc::IntervalSet& expected, const antlr4::Token* offending,
                           const antlr4::dfa::Vocabulary& vocabulary) {
  if (offending->getType() == TileParser::COMMA) return "";
  if (startsOperand(offending->getType())) {
    if (expected.contains((size_t)TileParser::RPAREN)) return "',' or ')'";
    if (expected.contains((size_t)TileParser::RBRACKET)) return "',' or ']'";
  }
  return describeExpected(expected, vocabulary);
}

// Shared by the error strategy: turns ANTLR's situations into our diagnostics and
// keeps it to one per mistake. After an error, further errors are dropped until the
// parser is past the next `;` or `}` (the end of the broken statement), and an error
// at end of file after an earlier one is taken to be a consequence of it.
class SyntaxErrorReporter {
 public:
  SyntaxErrorReporter(antlr4::CommonTokenStream& tokens, const TokenLocator& locator, DiagnosticEngine& diags)
      : tokens_(tokens.getTokens()), locator_(locator), diags_(diags) {}  // a copy: getTokens() copies

  bool hadErrors() const { return errorCount_ != 0; }
  bool droppedErrorAtEof() const { return droppedAtEof_; }
  // Drop errors at end of file: a bracket left open, which the caller reports itself.
  void setDropErrorsAtEof(bool drop) { dropAtEof_ = drop; }

  // An error at end of file that ANTLR did not pass on (it was still recovering).
  void noteErrorAtEof() {
    if (dropAtEof_) droppedAtEof_ = true;
  }

  void report(const antlr4::Token* offending, SourceRange range, const std::string& message) {
    size_t index = offending->getTokenIndex();
    bool atEof = offending->getType() == antlr4::Token::EOF;
    if (atEof && dropAtEof_) {
      droppedAtEof_ = true;
      return;
    }
    if (errorCount_ && (index <= suppressThrough_ || atEof)) return;
    ++errorCount_;
    diags_.error(range, message);
    noteFloorDivision(offending);
    suppressThrough_ = index;
    const std::vector<antlr4::Token*>& all = tokens_;
    while (suppressThrough_ < all.size()) {
      size_t type = all[suppressThrough_]->getType();
      if (type == TileParser::SEMI || type == TileParser::RBRACE || type == antlr4::Token::EOF) break;
      ++suppressThrough_;
    }
  }

 private:
  // A `//` meant as a comment but read as floor division makes the parse fail at
  // that `//` (`kernel k(A: T) // note` then `{`) or a word or two after it
  // (`x = f(a) // note here`). Say how the language reads it.
  void noteFloorDivision(const antlr4::Token* offending) {
    const std::vector<antlr4::Token*>& all = tokens_;
    const antlr4::Token* floorDivision = nullptr;
    if (offending->getType() == TileParser::FLOORDIV) floorDivision = offending;
    for (size_t i = offending->getTokenIndex(), words = 0; !floorDivision && i-- > 0 && words < 3; ++words) {
      size_t type = all[i]->getType();
      if (type == TileParser::FLOORDIV) floorDivision = all[i];
      else if (!isWord(type)) break;
    }
    if (floorDivision)
      diags_.note(locator_.rangeOf(floorDivision),
                  "'//' right after an operand on the same line is floor division, not a comment; "
                  "write /* ... */ here or put the comment on its own line");
  }

  const std::vector<antlr4::Token*> tokens_;  // the whole filled stream
  const TokenLocator& locator_;
  DiagnosticEngine& diags_;
  unsigned errorCount_ = 0;
  size_t suppressThrough_ = 0;
  bool dropAtEof_ = false;
  bool droppedAtEof_ = false;
};

bool isBracket(size_t type) {
  switch (type) {
    case TileParser::LPAREN: case TileParser::RPAREN: case TileParser::LBRACKET:
    case TileParser::RBRACKET: case TileParser::LBRACE: case TileParser::RBRACE:
      return true;
    default:
      return false;
  }
}

int bracketDelta(size_t type) {
  switch (type) {
    case TileParser::LPAREN: case TileParser::LBRACKET: case TileParser::LBRACE: return 1;
    case TileParser::RPAREN: case TileParser::RBRACKET: case TileParser::RBRACE: return -1;
    default: return 0;
  }
}

// Reports through SyntaxErrorReporter and recovers by whole statements.
//
// ANTLR's default recovery skips to any token that may follow some rule on the
// stack, which can stop inside a block or after a `{` and leave every later brace
// paired with the wrong one: one mistake, a cascade of errors. Here a failing rule
// hands the error up until a statement or a declaration has it, and that one skips
// to its own end by bracket structure: past the `;` that ends it, or past its
// closing `}` (and any `else` branches), or up to the `}` of the enclosing block.
// Brackets are known to balance (Parser.cpp checked them before parsing), so inline
// repairs never invent or delete a bracket, nor delete a `;`.
class TileErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  TileErrorStrategy(SyntaxErrorReporter& reporter, const TokenLocator& locator)
      : reporter_(reporter), locator_(locator) {}

  void reportError(antlr4::Parser* parser, const antlr4::RecognitionException& e) override {
    if (e.getOffendingToken() && e.getOffendingToken()->getType() == antlr4::Token::EOF) reporter_.noteErrorAtEof();
    antlr4::DefaultErrorStrategy::reportError(parser, e);
  }

  void recover(antlr4::Parser* parser, std::exception_ptr error) override {
    antlr4::ParserRuleContext* ctx = parser->getContext();
    size_t rule = ctx->getRuleIndex();
    if (rule == TileParser::RuleFile) return antlr4::DefaultErrorStrategy::recover(parser, error);
    if (rule != TileParser::RuleStatement && rule != TileParser::RuleDeclaration)
      std::rethrow_exception(error);  // the enclosing rule's handler recovers
    skipRestOf(parser, ctx, rule == TileParser::RuleDeclaration);
  }

 protected:
  antlr4::Token* singleTokenDeletion(antlr4::Parser* parser) override {
    size_t type = parser->getCurrentToken()->getType();
    if (type == TileParser::SEMI || isBracket(type)) return nullptr;
    return antlr4::DefaultErrorStrategy::singleTokenDeletion(parser);
  }

  bool singleTokenInsertion(antlr4::Parser* parser) override {
    antlr4::misc::IntervalSet expected = getExpectedTokens(parser);
    for (size_t bracket : {TileParser::LPAREN, TileParser::RPAREN, TileParser::LBRACKET, TileParser::RBRACKET,
                           TileParser::LBRACE, TileParser::RBRACE})
      if (expected.contains(bracket)) return false;
    return antlr4::DefaultErrorStrategy::singleTokenInsertion(parser);
  }

  void reportNoViableAlternative(antlr4::Parser* parser, const antlr4::NoViableAltException& e) override {
    antlr4::Token* offending = e.getOffendingToken();
    size_t rule = parser->getContext()->getRuleIndex();
    std::string message;
    std::string comma = startsOperand(offending->getType())
                            ? describeWanted(e.getExpectedTokens(), offending, parser->getVocabulary())
                            : "";
    if (isExpressionRule(rule) && offending == e.getStartToken() && offending->getType() != antlr4::Token::EOF)
      message = "expected an expression";
    else if (comma.rfind("','", 0) == 0)
      message = "unexpected " + describeToken(offending) + "; expected " + comma;
    else
      message = "unexpected " + describeToken(offending);
    reporter_.report(offending, locator_.rangeOf(offending), message);
  }

  void reportInputMismatch(antlr4::Parser* parser, const antlr4::InputMismatchException& e) override {
    antlr4::Token* offending = e.getOffendingToken();
    antlr4::misc::IntervalSet expected = e.getExpectedTokens();
    // After a statement's expression, `,` (a tuple assignment's next target or value)
    // is the other way on; the `;` is what is missing.
    bool semicolonOrComma = expected.size() == 2 && expected.contains((size_t)TileParser::COMMA) &&
                            parser->getContext()->getRuleIndex() == TileParser::RuleStatement;
    if (expected.contains((size_t)TileParser::SEMI) && (expected.size() == 1 || semicolonOrComma))
      return reportMissingSemicolon(parser, offending);
    std::string wanted = describeWanted(expected, offending, parser->getVocabulary());
    std::string message = wanted.empty() ? "unexpected " + describeToken(offending) : "expected " + wanted;
    if (!wanted.empty() && offending->getType() == antlr4::Token::EOF) message += " before end of file";
    reporter_.report(offending, locator_.rangeOf(offending), message);
  }

  void reportFailedPredicate(antlr4::Parser* parser, const antlr4::FailedPredicateException& e) override {
    // The grammar has no parser predicates beyond ANTLR's precedence checks.
    antlr4::Token* offending = e.getOffendingToken();
    reporter_.report(offending, locator_.rangeOf(offending), "unexpected " + describeToken(offending));
  }

  void reportUnwantedToken(antlr4::Parser* parser) override {
    if (inErrorRecoveryMode(parser)) return;
    beginErrorCondition(parser);
    antlr4::Token* offending = parser->getCurrentToken();
    std::string wanted = describeWanted(getExpectedTokens(parser), offending, parser->getVocabulary());
    std::string message = "unexpected " + describeToken(offending);
    if (wanted == "an expression") message = "expected an expression";
    else if (!wanted.empty()) message += "; expected " + wanted;
    reporter_.report(offending, locator_.rangeOf(offending), message);
  }

  void reportMissingToken(antlr4::Parser* parser) override {
    if (inErrorRecoveryMode(parser)) return;
    beginErrorCondition(parser);
    antlr4::Token* offending = parser->getCurrentToken();
    antlr4::misc::IntervalSet expected = getExpectedTokens(parser);
    if (expected.contains((size_t)TileParser::SEMI)) return reportMissingSemicolon(parser, offending);
    std::string wanted = describeWanted(expected, offending, parser->getVocabulary());
    reporter_.report(offending, locator_.rangeOf(offending),
                     wanted.empty() ? "unexpected " + describeToken(offending) : "expected " + wanted);
  }

 private:
  // Reported just past the previous token, where the `;` belongs (as clang does).
  void reportMissingSemicolon(antlr4::Parser* parser, antlr4::Token* offending) {
    antlr4::Token* previous = parser->getTokenStream()->LT(-1);
    size_t rule = parser->getContext()->getRuleIndex();
    bool afterExpression = rule == TileParser::RuleStatement || rule == TileParser::RuleDeclaration;
    SourceRange where = previous ? locator_.rangeAfter(previous) : locator_.rangeOf(offending);
    reporter_.report(offending, where, afterExpression ? "expected ';' after expression" : "expected ';'");
  }

  // Consumes the rest of the statement or declaration `ctx` (see the class comment).
  void skipRestOf(antlr4::Parser* parser, antlr4::ParserRuleContext* ctx, bool declaration) {
    antlr4::TokenStream* tokens = parser->getTokenStream();
    // Bracket depth at the current token, relative to the start of the construct.
    int depth = 0;
    for (size_t i = ctx->getStart()->getTokenIndex(); i < tokens->index(); ++i)
      depth += bracketDelta(tokens->get(i)->getType());
    if (depth < 0) depth = 0;

    size_t startIndex = tokens->index();
    while (true) {
      size_t type = tokens->LA(1);
      if (type == antlr4::Token::EOF) break;
      if (depth == 0) {
        if (type == TileParser::SEMI) {
          parser->consume();
          break;
        }
        if (type == TileParser::RBRACE) break;  // closes the enclosing block
        if (declaration && tokens->index() > startIndex &&
            (type == TileParser::CONST || type == TileParser::MACRO || type == TileParser::KERNEL))
          break;  // the next declaration
      }
      depth += bracketDelta(type);
      if (depth < 0) depth = 0;  // closes a bracket opened before the error
      parser->consume();
      if (type == TileParser::RBRACE && depth == 0) {
        size_t next = tokens->LA(1);
        if (next != TileParser::ELSE && next != TileParser::SEMI) break;  // the construct's block ended
      }
    }
    // Guarantee progress when the same spot fails twice without consuming anything.
    if (tokens->index() == startIndex && startIndex == lastStuckIndex_ &&
        tokens->LA(1) != antlr4::Token::EOF && tokens->LA(1) != TileParser::RBRACE)
      parser->consume();
    lastStuckIndex_ = tokens->index() == startIndex ? startIndex : (size_t)-1;
  }

  SyntaxErrorReporter& reporter_;
  const TokenLocator& locator_;
  size_t lastStuckIndex_ = (size_t)-1;
};

// ---------------------------------------------------------------- depth check

// Bounds the expression depth of the parse tree without recursing (the tree of a
// 100000-term sum is 100000 levels deep), so that the AstBuilder, and every later
// phase walking the AST, recurse at most kMaxExpressionDepth levels.
bool checkExpressionDepth(antlr4::tree::ParseTree* root, const TokenLocator& locator, DiagnosticEngine& diags) {
  struct Item {
    antlr4::tree::ParseTree* node;
    unsigned depth;
    antlr4::Token* expressionStart;  // where the outermost enclosing expression begins
  };
  std::vector<Item> work{{root, 0, nullptr}};
  while (!work.empty()) {
    Item item = work.back();
    work.pop_back();
    if (auto* expr = dynamic_cast<TileParser::ExprContext*>(item.node)) {
      if (item.depth == 0) item.expressionStart = expr->getStart();
      if (++item.depth > kMaxExpressionDepth) {
        diags.error(locator.rangeOf(item.expressionStart),
                    "expression too complex (more than " + std::to_string(kMaxExpressionDepth) +
                        " nested operations); split it with intermediate variables");
        return true;
      }
    }
    for (antlr4::tree::ParseTree* child : item.node->children)
      if (!dynamic_cast<antlr4::tree::TerminalNode*>(child)) work.push_back(Item{child, item.depth, item.expressionStart});
  }
  return false;
}

// ---------------------------------------------------------------- big stack

// Runs `body` on a thread with a kParserStackBytes stack and waits for it; runs it
// inline if no such thread can be made.
void runWithLargeStack(const std::function<void()>& body) {
  pthread_attr_t attributes;
  bool ready = pthread_attr_init(&attributes) == 0;
  if (ready && pthread_attr_setstacksize(&attributes, kParserStackBytes) == 0) {
    pthread_t thread;
    auto trampoline = [](void* arg) -> void* {
      (*static_cast<const std::function<void()>*>(arg))();
      return nullptr;
    };
    if (pthread_create(&thread, &attributes, trampoline, const_cast<std::function<void()>*>(&body)) == 0) {
      pthread_join(thread, nullptr);
      pthread_attr_destroy(&attributes);
      return;
    }
  }
  if (ready) pthread_attr_destroy(&attributes);
  body();
}

// The whole of parseFile after the UTF-8 check; runs on the large stack.
std::unique_ptr<ast::File> parseDecoded(const SourceFile& file, DecodedText decoded, DiagnosticEngine& diags) {
  TokenLocator locator(file, std::move(decoded.byteOffsets));
  LexedFile lexed(std::move(decoded.codePoints), file.path());
  if (reportTooManyTokens(lexed, locator, diags)) return nullptr;
  if (reportLexicalErrors(lexed, locator, diags)) return nullptr;
  antlr4::Token* unclosed = nullptr;
  BracketCheck brackets = checkBracketsAndNesting(lexed.tokens, locator, diags, &unclosed);
  if (brackets == BracketCheck::Error) return nullptr;

  TileParser parser(&lexed.tokens);
  parser.removeErrorListeners();  // the strategy reports everything itself
  SyntaxErrorReporter reporter(lexed.tokens, locator, diags);
  parser.setErrorHandler(std::make_shared<TileErrorStrategy>(reporter, locator));
  reporter.setDropErrorsAtEof(brackets == BracketCheck::UnclosedAtEof);
  TileParser::FileContext* tree = parser.file();
  if (brackets == BracketCheck::UnclosedAtEof) {
    // The parser's report, if it found the spot before end of file, is the better
    // one; but a parse that still ran into end of file needs the bracket named.
    if (!reporter.hadErrors() || reporter.droppedErrorAtEof()) reportUnclosedAtEof(unclosed, locator, diags);
    return nullptr;
  }
  if (reporter.hadErrors()) return nullptr;
  if (checkExpressionDepth(tree, locator, diags)) return nullptr;

  unsigned errorsBefore = diags.errorCount();
  frontend::AstBuilder builder(locator, diags);
  std::unique_ptr<ast::File> ast = builder.buildFile(tree);
  if (diags.errorCount() != errorsBefore) return nullptr;
  return ast;
}

}  // namespace

std::unique_ptr<ast::File> parseFile(const SourceFile& file, DiagnosticEngine& diags) {
  DecodedText decoded;
  if (reportInvalidUtf8(file, diags, decoded)) return nullptr;
  std::unique_ptr<ast::File> result;
  runWithLargeStack([&] {
    try {
      result = parseDecoded(file, std::move(decoded), diags);
    } catch (const std::exception& e) {
      // Not expected: ANTLR's runtime throwing past its own error strategy.
      diags.error(SourceRange{}, std::string("internal error while parsing: ") + e.what());
      result = nullptr;
    } catch (...) {
      diags.error(SourceRange{}, "internal error while parsing");
      result = nullptr;
    }
  });
  return result;
}

bool dumpTokens(const SourceFile& file, DiagnosticEngine& diags, std::ostream& out) {
  DecodedText decoded;
  if (reportInvalidUtf8(file, diags, decoded)) return false;
  try {
    TokenLocator locator(file, std::move(decoded.byteOffsets));
    LexedFile lexed(std::move(decoded.codePoints), file.path());
    if (reportTooManyTokens(lexed, locator, diags)) return false;
    const antlr4::dfa::Vocabulary& vocabulary = lexed.lexer.getVocabulary();
    for (antlr4::Token* token : lexed.tokens.getTokens()) {
      SourceLoc begin = locator.rangeOf(token).begin;
      std::string text = token->getType() == antlr4::Token::EOF ? "" : token->getText();
      std::string shown;
      for (char c : text) {
        if (c == '\n') shown += "\\n";
        else if (c == '\r') shown += "\\r";
        else if (c == '\t') shown += "\\t";
        else shown += c;
      }
      std::string kind = token->getType() == antlr4::Token::EOF ? "EOF" : vocabulary.getSymbolicName(token->getType());
      out << begin.line << ':' << begin.column << ' ' << kind << " '" << shown << "'\n";
    }
    return !reportLexicalErrors(lexed, locator, diags);
  } catch (const std::exception& e) {
    diags.error(SourceRange{}, std::string("internal error while lexing: ") + e.what());
    return false;
  }
}

}  // namespace tlc
