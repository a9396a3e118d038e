// Tokens of the IR text format (docs/ir.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

enum class Tok {
  Ident,     // letters, digits, '_', '.', '-', '$' starting with a letter or '_'
  ValueRef,  // %name
  Symbol,    // @name
  Integer,
  Float,
  String,    // "..." with \" \\ \n escapes; text holds the unescaped value
  LParen, RParen, LBrace, RBrace, LBracket, RBracket, Comma, Colon, Equal, Arrow,
  End,
};

const char* tokName(Tok t);

struct Token {
  Tok kind;
  std::string text;  // identifier/name without sigil, literal text, or unescaped string
  int line;
  int col;
};

// Splits `text` into tokens; `#` starts a comment to the end of the line. Rejects bytes that are
// not valid UTF-8, NUL bytes and unterminated strings with a located error.
Expected<std::vector<Token>> lex(std::string_view text, const std::string& file);

}  // namespace kiln
