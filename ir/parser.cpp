#include "ir/parser.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "ir/lexer.h"
#include "ir/suggest.h"
#include "ir/verifier.h"

namespace kiln {
namespace {

struct ParseError {
  Diagnostic diag;
};

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string file) : toks_(std::move(toks)), file_(std::move(file)) {}

  Module parse() {
    Module m;
    if (peek().kind == Tok::End) fail(peek(), "empty input: expected 'state' or 'func'");
    while (peek().kind != Tok::End) {
      const Token& t = peek();
      if (isKeyword(t, "state")) parseState(m);
      else if (isKeyword(t, "func")) parseFunction(m);
      else fail(t, "expected 'state' or 'func', got " + describe(t));
    }
    return m;
  }

 private:
  // ---- token helpers ----
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  static bool isKeyword(const Token& t, const char* kw) { return t.kind == Tok::Ident && t.text == kw; }
  Location at(const Token& t) const { return Location{file_, t.line, t.col}; }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::Ident: return "'" + t.text + "'";
      case Tok::ValueRef: return "'%" + t.text + "'";
      case Tok::Symbol: return "'@" + t.text + "'";
      case Tok::Integer:
      case Tok::Float: return "'" + t.text + "'";
      case Tok::String: return "string " + quote(t.text);
      default: return tokName(t.kind);
    }
  }
  static std::string quote(const std::string& s) { return "\"" + s + "\""; }
  [[noreturn]] void fail(const Token& t, const std::string& msg) const {
    throw ParseError{makeError(at(t), msg)};
  }
  const Token& expect(Tok kind, const char* context) {
    const Token& t = peek();
    if (t.kind != kind)
      fail(t, std::string("expected ") + tokName(kind) + " " + context + ", got " + describe(t));
    return next();
  }
  void expectKeyword(const char* kw, const char* context) {
    const Token& t = peek();
    if (!isKeyword(t, kw)) fail(t, std::string("expected '") + kw + "' " + context + ", got " + describe(t));
    next();
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    next();
    return true;
  }

  int64_t parseInt(const Token& t) {
    int64_t v = 0;
    const char* b = t.text.data();
    const char* e = b + t.text.size();
    if (*b == '+') ++b;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e) fail(t, "integer " + t.text + " is out of range");
    return v;
  }
  double parseDoubleTok(const Token& t) {
    if (t.kind == Tok::Ident && t.text == "inf") return INFINITY;
    if (t.kind == Tok::Ident && t.text == "nan") return NAN;
    if (t.text == "-inf") return -INFINITY;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(t.text.c_str(), &end);
    if (end != t.text.c_str() + t.text.size()) fail(t, "malformed number '" + t.text + "'");
    if (errno == ERANGE && std::isinf(v)) fail(t, "number " + t.text + " is out of range");
    return v;
  }
  bool isNumber(const Token& t) const {
    return t.kind == Tok::Integer || t.kind == Tok::Float ||
           (t.kind == Tok::Ident && (t.text == "inf" || t.text == "nan"));
  }
  double parseNumber(const char* context) {
    const Token& t = peek();
    if (!isNumber(t)) fail(t, std::string("expected a number ") + context + ", got " + describe(t));
    next();
    return parseDoubleTok(t);
  }

  // ---- types ----
  TensorType parseType() {
    const Token& t = peek();
    if (t.kind != Tok::Ident) fail(t, "expected a tensor type such as f32[2,3], got " + describe(t));
    auto dt = parseDType(t.text);
    if (!dt) fail(t, "unknown dtype '" + t.text + "' (expected f32, bf16, f16, f64, i32, i64 or bool)");
    next();
    TensorType type{*dt, {}};
    expect(Tok::LBracket, "after the dtype");
    int64_t elems = 1;
    if (peek().kind != Tok::RBracket) {
      while (true) {
        const Token& d = peek();
        if (d.kind != Tok::Integer) fail(d, "expected a dimension size, got " + describe(d));
        next();
        if (d.text[0] == '-' ) fail(d, "dimension " + d.text + " is negative");
        int64_t v = d.text.size() > 15 ? kMaxDim + 1 : parseInt(d);
        if (v > kMaxDim) fail(d, "dimension " + d.text + " is larger than the limit of 2^40");
        if (type.rank() >= kMaxRank) fail(d, "rank exceeds the maximum of " + std::to_string(kMaxRank));
        if (v != 0 && elems > kMaxElements / v) fail(d, "tensor has more than 2^40 elements");
        elems *= v;
        type.shape.push_back(v);
        if (accept(Tok::Comma)) continue;
        break;
      }
    }
    expect(Tok::RBracket, "to close the shape");
    return type;
  }

  Location parseOptionalLoc() {
    if (!isKeyword(peek(), "loc")) return {};
    next();
    expect(Tok::LParen, "after 'loc'");
    Location loc;
    loc.file = expect(Tok::String, "(the file of a location)").text;
    expect(Tok::Colon, "in a location");
    const Token& l = expect(Tok::Integer, "(the line of a location)");
    expect(Tok::Colon, "in a location");
    const Token& c = expect(Tok::Integer, "(the column of a location)");
    int64_t li = parseInt(l), ci = parseInt(c);
    if (li < 1 || li > INT32_MAX || ci < 1 || ci > INT32_MAX) fail(l, "location line and column must be positive");
    loc.line = int(li);
    loc.col = int(ci);
    expect(Tok::RParen, "to close 'loc('");
    return loc;
  }

  // ---- state ----
  void parseState(Module& m) {
    const Token& kw = next();
    StateVar s;
    s.textLoc = at(kw);
    s.name = expect(Tok::Symbol, "(the state name) after 'state'").text;
    expect(Tok::Colon, "after the state name");
    s.type = parseType();
    expect(Tok::Equal, "before the state initializer");
    s.init = parseInitializer();
    if (isKeyword(peek(), "trainable")) {
      next();
      s.trainable = true;
    }
    s.loc = parseOptionalLoc();
    m.states.push_back(std::move(s));
  }

  Initializer parseInitializer() {
    const Token& t = peek();
    static const std::map<std::string, InitKind> kinds = {{"zeros", InitKind::Zeros},
                                                           {"ones", InitKind::Ones},
                                                           {"full", InitKind::Full},
                                                           {"normal", InitKind::Normal},
                                                           {"uniform", InitKind::Uniform}};
    auto it = t.kind == Tok::Ident ? kinds.find(t.text) : kinds.end();
    if (it == kinds.end())
      fail(t, "expected an initializer (zeros, ones, full, normal, uniform), got " + describe(t));
    next();
    Initializer init;
    init.kind = it->second;
    std::map<std::string, const char*> keys;  // key -> which field
    switch (init.kind) {
      case InitKind::Zeros:
      case InitKind::Ones: return init;
      case InitKind::Full: keys = {{"value", "a"}}; break;
      case InitKind::Normal: keys = {{"mean", "a"}, {"std", "b"}, {"seed", "seed"}}; init.b = 1; break;
      case InitKind::Uniform: keys = {{"low", "a"}, {"high", "b"}, {"seed", "seed"}}; init.b = 1; break;
    }
    expect(Tok::LParen, "after the initializer name");
    while (peek().kind != Tok::RParen) {
      const Token& k = expect(Tok::Ident, "(an initializer argument)");
      auto f = keys.find(k.text);
      if (f == keys.end()) {
        std::string allowed;
        for (auto& [name, field] : keys) allowed += (allowed.empty() ? "" : ", ") + name;
        fail(k, "unknown argument '" + k.text + "' of " + it->first + " (allowed: " + allowed + ")");
      }
      expect(Tok::Equal, "after the argument name");
      if (std::string(f->second) == "seed") {
        const Token& v = expect(Tok::Integer, "(the seed)");
        init.seed = parseInt(v);
        if (init.seed < 0) fail(v, "seed must be non-negative");
      } else {
        double v = parseNumber("(the argument value)");
        (std::string(f->second) == "a" ? init.a : init.b) = v;
      }
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RParen, "to close the initializer");
    return init;
  }

  // ---- functions ----
  void parseFunction(Module& m) {
    const Token& kw = next();
    Function& f = m.addFunction("");
    f.textLoc = at(kw);
    f.name = expect(Tok::Symbol, "(the function name) after 'func'").text;
    values_.clear();
    expect(Tok::LParen, "to open the parameter list");
    while (peek().kind != Tok::RParen) {
      const Token& p = expect(Tok::ValueRef, "(a parameter)");
      expect(Tok::Colon, "after the parameter name");
      TensorType t = parseType();
      define(p, f.addParam(p.text, t));
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RParen, "to close the parameter list");
    expect(Tok::Arrow, "after the parameter list");
    expect(Tok::LParen, "to open the result list");
    std::vector<TensorType> outTypes;
    while (peek().kind != Tok::RParen) {
      const Token& n = expect(Tok::Ident, "(a result name)");
      f.outputNames.push_back(n.text);
      expect(Tok::Colon, "after the result name");
      outTypes.push_back(parseType());
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RParen, "to close the result list");
    f.loc = parseOptionalLoc();
    expect(Tok::LBrace, "to open the function body");
    while (!isKeyword(peek(), "return")) {
      if (peek().kind == Tok::End) fail(peek(), "unexpected end of file in function @" + f.name + " (missing 'return' and '}')");
      if (peek().kind == Tok::RBrace) fail(peek(), "function @" + f.name + " ends without 'return'");
      parseOp(f);
    }
    const Token& ret = next();
    if (peek().kind == Tok::ValueRef) {
      while (true) {
        f.outputs.push_back(use(expect(Tok::ValueRef, "(a returned value)")));
        if (!accept(Tok::Comma)) break;
      }
    }
    if (f.outputs.size() != outTypes.size())
      fail(ret, "return has " + std::to_string(f.outputs.size()) + " value(s), but @" + f.name +
                    " declares " + std::to_string(outTypes.size()) + " result(s)");
    for (size_t i = 0; i < outTypes.size(); ++i)
      if (f.outputs[i]->type != outTypes[i])
        fail(ret, "returned value " + std::to_string(i) + " has type " + f.outputs[i]->type.str() +
                      ", but @" + f.name + " declares " + outTypes[i].str());
    expect(Tok::RBrace, "after 'return' (to close the function body)");
  }

  void define(const Token& t, Value* v) {
    auto [it, inserted] = values_.emplace(t.text, std::make_pair(v, t.line));
    if (!inserted)
      fail(t, "value %" + t.text + " is already defined (at line " + std::to_string(it->second.second) + ")");
  }
  Value* use(const Token& t) {
    auto it = values_.find(t.text);
    if (it == values_.end()) fail(t, "use of undefined value %" + t.text);
    return it->second.first;
  }

  void parseOp(Function& f) {
    const Token& first = peek();
    std::vector<Token> resultToks;
    if (first.kind == Tok::ValueRef) {
      while (true) {
        resultToks.push_back(expect(Tok::ValueRef, "(a result name)"));
        if (!accept(Tok::Comma)) break;
      }
      expect(Tok::Equal, "after the result names");
    }
    const Token& mn = peek();
    if (mn.kind != Tok::Ident) fail(mn, "expected an op name, got " + describe(mn));
    auto kind = opKindFromMnemonic(mn.text);
    if (!kind) {
      std::vector<std::string> all;
      for (OpKind k : kAllOpKinds) all.emplace_back(mnemonic(k));
      std::string hint = nearestName(mn.text, all);
      fail(mn, "unknown op '" + mn.text + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    next();
    const OpInfo& info = opInfo(*kind);
    if (info.numResults >= 0 && int(resultToks.size()) != info.numResults)
      fail(resultToks.empty() ? mn : resultToks[0],
           std::string(info.mnemonic) + " produces " + std::to_string(info.numResults) + " result(s), but " +
               std::to_string(resultToks.size()) + " are named");
    std::string stateRef;
    std::vector<Value*> operands;
    bool needComma = false;
    if (info.traits & kStateRef) {
      stateRef = expect(Tok::Symbol, "(the state variable)").text;
      needComma = true;
    }
    if (!needComma || accept(Tok::Comma)) {
      while (peek().kind == Tok::ValueRef) {
        operands.push_back(use(next()));
        if (!accept(Tok::Comma)) break;
      }
    }
    Attrs attrs;
    if (peek().kind == Tok::LBrace) attrs = parseAttrs(*kind);
    fillDefaultAttrs(*kind, attrs);
    std::vector<TensorType> types;
    if (!resultToks.empty()) {
      expect(Tok::Colon, "before the result type");
      while (true) {
        types.push_back(parseType());
        if (!accept(Tok::Comma)) break;
      }
      if (types.size() != resultToks.size())
        fail(first, std::to_string(resultToks.size()) + " result(s) but " + std::to_string(types.size()) + " type(s)");
    }
    Op* op = f.appendOp(*kind, std::move(operands), types, std::move(attrs));
    op->stateRef = stateRef;
    op->textLoc = at(first);
    if (peek().kind == Tok::String) op->name = next().text;
    op->loc = parseOptionalLoc();
    for (size_t i = 0; i < resultToks.size(); ++i) {
      op->result(int(i))->name = resultToks[i].text;
      define(resultToks[i], op->result(int(i)));
    }
  }

  Attrs parseAttrs(OpKind kind) {
    next();  // '{'
    Attrs attrs;
    while (peek().kind != Tok::RBrace) {
      const Token& k = expect(Tok::Ident, "(an attribute name)");
      if (attrs.has(k.text)) fail(k, "attribute '" + k.text + "' is given twice");
      const AttrSpec* spec = findAttrSpec(kind, k.text);
      if (!spec) {
        std::vector<std::string> names;
        for (const AttrSpec& s : opInfo(kind).attrs) names.push_back(s.name);
        std::string hint = nearestName(k.text, names);
        fail(k, std::string(mnemonic(kind)) + " has no attribute '" + k.text + "'" +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      expect(Tok::Equal, "after the attribute name");
      const Token& vt = peek();
      Attr v = parseAttrValue();
      // An integer where a float is expected is that float.
      if (spec->type == AttrType::Float && std::holds_alternative<int64_t>(v))
        v = double(std::get<int64_t>(v));
      if (spec->type == AttrType::Floats && !spec->numbers && std::holds_alternative<std::vector<int64_t>>(v)) {
        const auto& iv = std::get<std::vector<int64_t>>(v);
        v = std::vector<double>(iv.begin(), iv.end());
      }
      Attrs one;
      one.set(k.text, v);
      if (auto e = checkAttrs(kind, one); !e.empty() && e.find("needs attribute") == std::string::npos)
        fail(vt, e);
      attrs.set(k.text, std::move(v));
      if (!accept(Tok::Comma)) break;
    }
    expect(Tok::RBrace, "to close the attributes");
    return attrs;
  }

  Attr parseAttrValue() {
    const Token& t = peek();
    if (t.kind == Tok::Integer) { next(); return parseInt(t); }
    if (isNumber(t)) { next(); return parseDoubleTok(t); }
    if (isKeyword(t, "true") || isKeyword(t, "false")) { next(); return t.text == "true"; }
    if (t.kind == Tok::String) { next(); return t.text; }
    if (t.kind == Tok::LBracket) {
      next();
      std::vector<int64_t> ints;
      std::vector<double> floats;
      bool anyFloat = false;
      while (peek().kind != Tok::RBracket) {
        const Token& e = peek();
        if (!isNumber(e)) fail(e, "expected a number in the list, got " + describe(e));
        next();
        if (e.kind == Tok::Integer && !anyFloat) ints.push_back(parseInt(e));
        else {
          if (!anyFloat) floats.assign(ints.begin(), ints.end());
          anyFloat = true;
          floats.push_back(e.kind == Tok::Integer ? double(parseInt(e)) : parseDoubleTok(e));
        }
        if (!accept(Tok::Comma)) break;
      }
      expect(Tok::RBracket, "to close the list");
      if (anyFloat) return floats;
      return ints;
    }
    fail(t, "expected an attribute value (number, true/false, string or list), got " + describe(t));
  }

  std::vector<Token> toks_;
  std::string file_;
  size_t pos_ = 0;
  std::map<std::string, std::pair<Value*, int>> values_;
};

}  // namespace

Expected<Module> parseModule(std::string_view text, const std::string& file) {
  auto toks = lex(text, file);
  if (!toks) return toks.error();
  try {
    return Parser(toks.take(), file).parse();
  } catch (const ParseError& e) {
    return e.diag;
  }
}

Expected<Module> parseModuleFile(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  return parseModule(*text, path);
}

}  // namespace kiln
