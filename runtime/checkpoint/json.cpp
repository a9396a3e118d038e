#include "runtime/checkpoint/json.h"

#include <cstdlib>

namespace kiln::json {

namespace {

struct Failure {
  std::string what;
  size_t at;
};

class Reader {
 public:
  explicit Reader(const std::string& t) : t_(t) {}

  Value document() {
    Value v = value(0);
    skip();
    if (i_ != t_.size()) throw Failure{"trailing characters after the JSON value", i_};
    return v;
  }

 private:
  void skip() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r')) ++i_;
  }
  char peek() {
    skip();
    if (i_ >= t_.size()) throw Failure{"unexpected end of JSON", i_};
    return t_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw Failure{std::string("expected '") + c + "'", i_};
    ++i_;
  }
  Value value(int depth) {
    if (depth > 64) throw Failure{"JSON nested too deeply", i_};
    char c = peek();
    if (c == '{') {
      ++i_;
      auto obj = std::make_shared<Object>();
      if (peek() == '}') {
        ++i_;
        return Value{obj};
      }
      while (true) {
        if (peek() != '"') throw Failure{"expected a string key", i_};
        std::string k = str();
        expect(':');
        (*obj)[k] = value(depth + 1);
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return Value{obj};
      }
    }
    if (c == '[') {
      ++i_;
      auto arr = std::make_shared<Array>();
      if (peek() == ']') {
        ++i_;
        return Value{arr};
      }
      while (true) {
        arr->push_back(value(depth + 1));
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return Value{arr};
      }
    }
    if (c == '"') return Value{str()};
    if (t_.compare(i_, 4, "true") == 0) return i_ += 4, Value{true};
    if (t_.compare(i_, 5, "false") == 0) return i_ += 5, Value{false};
    if (t_.compare(i_, 4, "null") == 0) return i_ += 4, Value{nullptr};
    const char* start = t_.c_str() + i_;
    char* end = nullptr;
    double d = std::strtod(start, &end);
    if (end == start) throw Failure{"expected a JSON value", i_};
    i_ += size_t(end - start);
    return Value{d};
  }
  std::string str() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= t_.size()) throw Failure{"unterminated string", i_};
      char c = t_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) throw Failure{"unterminated escape", i_};
      char e = t_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i_ + 4 > t_.size()) throw Failure{"truncated \\u escape", i_};
          unsigned cp = unsigned(std::strtoul(t_.substr(i_, 4).c_str(), nullptr, 16));
          i_ += 4;
          if (cp < 0x80) out += char(cp);
          else if (cp < 0x800) out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
          else out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
          break;
        }
        default: out += e;
      }
    }
  }

  const std::string& t_;
  size_t i_ = 0;
};

}  // namespace

Expected<Value> parse(const std::string& text, const std::string& origin) {
  try {
    return Reader(text).document();
  } catch (const Failure& f) {
    return makeError(Location{origin, 0, 0}, "malformed JSON at byte " + std::to_string(f.at) + ": " + f.what);
  }
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c == '\n') out += "\\n";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += char(c);
  }
  return out + "\"";
}

}  // namespace kiln::json
