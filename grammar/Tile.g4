// Tile.g4: the grammar of the tile language (.tl), lexer and parser in one.
//
// The parse tree is only an intermediate: src/frontend/AstBuilder.cpp walks it into
// the AST (src/frontend/AST.h), and src/frontend/Parser.cpp owns error reporting.
// Keep the rules LL(1) where that is cheap (optional tails instead of alternatives
// that share a long prefix): prediction then never has to scan a whole expression,
// so deeply nested input stays linear and the generated parser stays small.
//
// Design notes
// - Types in parameters are ordinary expressions (`Tensor((M, N), float16)`).
// - Statements end with `;`; blocks use `{}`. An expression statement and an
//   assignment share one rule; AstBuilder checks that an assignment target is a
//   name or an index expression. `a, b = x, y` (Python's tuple assignment) is the
//   same rule with several targets and values.
// - `( )` holds three things, told apart after parsing: `()` is the empty tuple,
//   `(e)` a parenthesized expression, `(e,)` / `(a, b)` a tuple.
// - Lexical errors never stop the lexer: stray characters, unterminated strings
//   and comments, single-quoted strings and malformed numbers become error tokens
//   (the ERR_* rules at the end) that Parser.cpp reports in our own words before
//   parsing starts.
//
// THE `//` RULE. `//` is both Python's floor division and the line comment. Rule:
//   `//` is FLOOR DIVISION when the previous token (comments and white space not
//   counting) is on the same line and can end an operand: a name, a number, a
//   string, True/False, `)` or `]`. Everywhere else `//` starts a comment that runs
//   to the end of the line.
// So `r = tx // 16;` divides, `a = b // 2; // halve` divides then comments (the
// second `//` follows `;`), and a line that starts with `//` is always a comment.
// The one surprise: a comment directly after an operand without a `;` in between,
// e.g. `kernel k(A: T) // note` before a `{` on the next line, reads as floor
// division; write `/* note */` there or put the comment on its own line (Parser.cpp
// adds a note saying so when such a `//` leads to a syntax error).
// The rule is a lexer predicate (`slashSlashStartsComment`) over the last token the
// lexer emitted, which `nextToken` records below; it needs no parser feedback.
grammar Tile;

@lexer::members {
  // The last token handed to the parser (skipped white space and comments excluded),
  // for the `//` rule above. Zero type = none yet.
  size_t lastSignificantType_ = 0;
  size_t lastSignificantLine_ = 0;

  std::unique_ptr<antlr4::Token> nextToken() override {
    std::unique_ptr<antlr4::Token> next = antlr4::Lexer::nextToken();
    lastSignificantType_ = next->getType();
    lastSignificantLine_ = next->getLine();
    return next;
  }

  // True when the `//` starting at the current token start is a comment.
  bool slashSlashStartsComment() const {
    if (lastSignificantType_ == 0 || lastSignificantLine_ != tokenStartLine) return true;
    switch (lastSignificantType_) {
      case NAME: case INT: case FLOAT: case STRING: case BOOL: case RPAREN: case RBRACKET:
        return false;
      default:
        return true;
    }
  }
}

// ================================================================== parser

file : declaration* EOF ;

declaration
  : 'const' NAME '=' expression ';'                                  # constDecl
  | kind=('macro' | 'kernel') NAME '(' paramList? ')' block          # functionDecl
  ;

paramList : param (',' param)* ','? ;
param     : NAME ':' expression ;

block : '{' statement* '}' ;

statement
  : 'with' expression ('as' bindings)? block                         # withStmt
  | 'for' NAME (',' NAME)* 'in' expression block                     # forStmt
  | ifStatement                                                      # ifStmt
  | block                                                            # blockStmt
  | targets+=expression (',' targets+=expression)*
    (assignOp values+=expression (',' values+=expression)*)? ';'     # simpleStmt
  ;

// `else if` chains nest: the else branch is another ifStatement.
ifStatement : 'if' expression block ('else' (ifStatement | block))? ;

bindings
  : '(' NAME (',' NAME)* ','? ')'
  | NAME
  ;

assignOp
  : '=' | '+=' | '-=' | '*=' | '/=' | '//=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>='
  ;

// A lambda binds loosest and only at the top of an expression (a keyword value,
// an argument, a tuple element): `thread=(i, j) -> (i // 4) * 32 + j`, or in
// Python's spelling, as TileLang code has it: `thread=lambda i, j: (i // 4) * 32 + j`.
expression
  : lambdaParams '->' expression                                     # lambdaExpr
  | LAMBDA NAME (',' NAME)* ':' expression                           # pyLambdaExpr
  | expr                                                             # plainExpr
  ;

lambdaParams
  : NAME
  | '(' (NAME (',' NAME)* ','?)? ')'
  ;

// Python's precedence, tightest first (ANTLR: earlier alternative binds tighter).
// Unary minus sits below `**`, so -x ** 2 is -(x ** 2), and 2 ** -1 still parses
// because a prefix operator may start any operand. Comparisons do not chain: a < b < c
// is (a < b) < c.
expr
  : atom                                                             # atomExpr
  | expr '.' NAME                                                    # attributeExpr
  | expr '(' argumentList? ')'                                       # callExpr
  | expr '[' subscriptList ']'                                       # indexExpr
  | <assoc=right> expr op='**' expr                                  # binaryExpr
  | op=('-' | '+' | '~') expr                                        # unaryExpr
  | expr op=('*' | '/' | '//' | '%') expr                            # binaryExpr
  | expr op=('+' | '-') expr                                         # binaryExpr
  | expr op=('<<' | '>>') expr                                       # binaryExpr
  | expr op='&' expr                                                 # binaryExpr
  | expr op='^' expr                                                 # binaryExpr
  | expr op='|' expr                                                 # binaryExpr
  | expr op=('<' | '<=' | '>' | '>=' | '==' | '!=') expr             # binaryExpr
  | op='not' expr                                                    # unaryExpr
  | expr op='and' expr                                               # binaryExpr
  | expr op='or' expr                                                # binaryExpr
  ;

argumentList : argument (',' argument)* ','? ;
// A keyword argument's name may be the word `kernel` (TileLang's im2col(..., kernel=3)):
// `kernel` followed by `=` can only be a keyword argument here.
argument
  : name=(NAME | KERNEL) '=' expression                              # keywordArgument
  | expression                                                       # positionalArgument
  ;

subscriptList : subscript (',' subscript)* ','? ;
// `i`, `lo:hi`, `lo:`, `:hi`, `:`; the optional tail keeps this LL(1).
subscript
  : lo=expression (colon=':' hi=expression?)?
  | colon=':' hi=expression?
  ;

atom
  : NAME                                                             # nameAtom
  | INT                                                              # intAtom
  | FLOAT                                                            # floatAtom
  | STRING                                                           # stringAtom
  | BOOL                                                             # boolAtom
  | '(' (expression (comma=',' (expression (',' expression)* ','?)?)?)? ')'   # parenAtom
  | '{' (dictEntry (',' dictEntry)* ','?)? '}'                       # dictAtom
  | '[' (expression (',' expression)* ','?)? ']'                     # listAtom
  ;

dictEntry : key=expression ':' value=expression ;

// ================================================================== lexer

// Keywords come before NAME so that they win ties.
CONST  : 'const' ;
MACRO  : 'macro' ;
KERNEL : 'kernel' ;
WITH   : 'with' ;
AS     : 'as' ;
FOR    : 'for' ;
IN     : 'in' ;
IF     : 'if' ;
ELSE   : 'else' ;
AND    : 'and' ;
OR     : 'or' ;
NOT    : 'not' ;
LAMBDA : 'lambda' ;
BOOL   : 'True' | 'False' | 'true' | 'false' ;

NAME : [a-zA-Z_] [a-zA-Z_0-9]* ;

// Integers: decimal, 0x, 0o, 0b, with optional single `_` between digits.
INT
  : DIGITS
  | '0' [xX] '_'? HEX_DIGIT ('_'? HEX_DIGIT)*
  | '0' [oO] '_'? [0-7] ('_'? [0-7])*
  | '0' [bB] '_'? [01] ('_'? [01])*
  ;
// Floats: 1.0, 2., .5, 1e-3, 2.5E+4.
FLOAT
  : DIGITS '.' DIGITS? EXPONENT?
  | '.' DIGITS EXPONENT?
  | DIGITS EXPONENT
  ;
fragment DIGITS    : [0-9] ('_'? [0-9])* ;
fragment EXPONENT  : [eE] [+-]? DIGITS ;
fragment HEX_DIGIT : [0-9a-fA-F] ;

// Escapes are checked (and decoded) by AstBuilder.
STRING : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* '"' ;

// Punctuation and operators. Longest match wins, so `//=` beats `//` beats `/`.
LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACKET : '[' ;
RBRACKET : ']' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
COMMA    : ',' ;
SEMI     : ';' ;
COLON    : ':' ;
DOT      : '.' ;
ARROW    : '->' ;

// A line comment comes before the operators that start with `//`, so that where the
// `//` rule says "comment", a bare `//` (an empty comment) or `//=` is one too: on a
// tie in length, ANTLR takes the rule written first.
LINE_COMMENT  : '//' {slashSlashStartsComment()}? ~[\r\n]* -> skip ;

ASSIGN         : '=' ;
ADD_ASSIGN     : '+=' ;
SUB_ASSIGN     : '-=' ;
MUL_ASSIGN     : '*=' ;
DIV_ASSIGN     : '/=' ;
FLOORDIV_ASSIGN: '//=' {!slashSlashStartsComment()}? ;  // else a comment, even `//=` alone
MOD_ASSIGN     : '%=' ;
AND_ASSIGN     : '&=' ;
OR_ASSIGN      : '|=' ;
XOR_ASSIGN     : '^=' ;
SHL_ASSIGN     : '<<=' ;
SHR_ASSIGN     : '>>=' ;

POW      : '**' ;
STAR     : '*' ;
SLASH    : '/' ;
FLOORDIV : '//' {!slashSlashStartsComment()}? ;  // else a comment, even a bare `//`
PERCENT  : '%' ;
PLUS     : '+' ;
MINUS    : '-' ;
TILDE    : '~' ;
SHL      : '<<' ;
SHR      : '>>' ;
AMP      : '&' ;
CARET    : '^' ;
PIPE     : '|' ;
LE       : '<=' ;
GE       : '>=' ;
LT       : '<' ;
GT       : '>' ;
EQ       : '==' ;
NE       : '!=' ;

// White space and comments. LINE_COMMENT's predicate is the `//` rule (see the top).
WS            : [ \t\r\n\f\uFEFF]+ -> skip ;  // U+FEFF: a byte-order mark
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;

// Error tokens, reported by Parser.cpp. The parser never expects them.
// A block comment with no `*/`: it may not contain `*/`, so it only wins at EOF.
ERR_UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF ;
ERR_UNTERMINATED_STRING  : '"' ( ~["\\\r\n] | '\\' ~[\r\n] )* '\\'? ;
// 'x' as Python allows: one clear error instead of two stray quotes.
ERR_SINGLE_QUOTED_STRING : '\'' ( ~['\\\r\n] | '\\' ~[\r\n] )* '\'' ;
// A number run into letters (`12abc`, `0b102`, `2.x`): longer than any good literal.
ERR_BAD_NUMBER           : [0-9] [0-9a-zA-Z_.]* ;
ERR_UNEXPECTED_CHAR      : . ;
