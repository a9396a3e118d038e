#include "ir/lexer.h"

#include <cctype>

namespace kiln {

const char* tokName(Tok t) {
  switch (t) {
    case Tok::Ident: return "identifier";
    case Tok::ValueRef: return "value (%name)";
    case Tok::Symbol: return "symbol (@name)";
    case Tok::Integer: return "integer";
    case Tok::Float: return "number";
    case Tok::String: return "string";
    case Tok::LParen: return "'('";
    case Tok::RParen: return "')'";
    case Tok::LBrace: return "'{'";
    case Tok::RBrace: return "'}'";
    case Tok::LBracket: return "'['";
    case Tok::RBracket: return "']'";
    case Tok::Comma: return "','";
    case Tok::Colon: return "':'";
    case Tok::Equal: return "'='";
    case Tok::Arrow: return "'->'";
    case Tok::End: return "end of file";
  }
  return "?";
}

namespace {

// Length of the UTF-8 sequence at s[i], or 0 if it is not valid UTF-8.
size_t utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool identChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '$';
}

}  // namespace

Expected<std::vector<Token>> lex(std::string_view s, const std::string& file) {
  std::vector<Token> out;
  int line = 1, col = 1;
  size_t i = 0;
  auto err = [&](const std::string& msg) { return makeError(Location{file, line, col}, msg); };
  // Validate the encoding first so every later error can point at real characters.
  {
    int l = 1, c = 1;
    for (size_t k = 0; k < s.size();) {
      if (s[k] == '\0') return makeError(Location{file, l, c}, "NUL byte in input");
      size_t n = utf8Length(s, k);
      if (n == 0) return makeError(Location{file, l, c}, "invalid UTF-8 byte sequence");
      if (s[k] == '\n') { ++l; c = 1; } else { ++c; }
      k += n;
    }
  }
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n; ++k) {
      if (s[i] == '\n') { ++line; col = 1; } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) { ++col; }
      ++i;
    }
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { advance(1); continue; }
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') advance(1);
      continue;
    }
    Token t{Tok::End, "", line, col};
    auto single = [&](Tok k) { t.kind = k; advance(1); };
    switch (c) {
      case '(': single(Tok::LParen); break;
      case ')': single(Tok::RParen); break;
      case '{': single(Tok::LBrace); break;
      case '}': single(Tok::RBrace); break;
      case '[': single(Tok::LBracket); break;
      case ']': single(Tok::RBracket); break;
      case ',': single(Tok::Comma); break;
      case ':': single(Tok::Colon); break;
      case '=': single(Tok::Equal); break;
      default: break;
    }
    if (t.kind != Tok::End) { out.push_back(t); continue; }
    if (s.substr(i, 4) == "-inf" && (i + 4 >= s.size() || !identChar(s[i + 4]))) {
      t.kind = Tok::Float;
      t.text = "-inf";
      advance(4);
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '>') {
      t.kind = Tok::Arrow;
      advance(2);
    } else if (c == '%' || c == '@') {
      advance(1);
      size_t start = i;
      while (i < s.size() && identChar(s[i])) advance(1);
      if (i == start) return err(std::string("expected a name after '") + c + "'");
      t.kind = c == '%' ? Tok::ValueRef : Tok::Symbol;
      t.text = std::string(s.substr(start, i - start));
    } else if (c == '"') {
      advance(1);
      std::string v;
      while (true) {
        if (i >= s.size() || s[i] == '\n') return makeError(Location{file, t.line, t.col}, "unterminated string");
        if (s[i] == '"') { advance(1); break; }
        if (s[i] == '\\') {
          if (i + 1 >= s.size()) return err("unterminated string");
          char e = s[i + 1];
          if (e == 'n') v += '\n';
          else if (e == '"' || e == '\\') v += e;
          else return err(std::string("unknown escape '\\") + e + "' in string");
          advance(2);
          continue;
        }
        v += s[i];
        advance(1);
      }
      t.kind = Tok::String;
      t.text = std::move(v);
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               ((c == '-' || c == '+') && i + 1 < s.size() &&
                (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '.'))) {
      size_t start = i;
      bool isFloatLit = false;
      advance(1);
      while (i < s.size()) {
        char d = s[i];
        if (std::isdigit(static_cast<unsigned char>(d))) { advance(1); continue; }
        if (d == '.' || d == 'e' || d == 'E') {
          isFloatLit = true;
          advance(1);
          if ((d == 'e' || d == 'E') && i < s.size() && (s[i] == '-' || s[i] == '+')) advance(1);
          continue;
        }
        break;
      }
      t.kind = isFloatLit ? Tok::Float : Tok::Integer;
      t.text = std::string(s.substr(start, i - start));
    } else if (identStart(c)) {
      size_t start = i;
      while (i < s.size() && identChar(s[i])) {
        if (s[i] == '-' && i + 1 < s.size() && s[i + 1] == '>') break;
        advance(1);
      }
      t.kind = Tok::Ident;
      t.text = std::string(s.substr(start, i - start));
    } else {
      size_t n = utf8Length(s, i);
      return err("unexpected character '" + std::string(s.substr(i, n ? n : 1)) + "'");
    }
    out.push_back(std::move(t));
  }
  out.push_back(Token{Tok::End, "", line, col});
  return out;
}

}  // namespace kiln
