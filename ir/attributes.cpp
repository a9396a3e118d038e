#include "ir/attributes.h"

#include <charconv>
#include <cmath>

#include "ir/diagnostics.h"

namespace kiln {

AttrType attrType(const Attr& a) { return AttrType(a.index()); }

const char* attrTypeName(AttrType t) {
  switch (t) {
    case AttrType::Int: return "int";
    case AttrType::Float: return "float";
    case AttrType::Bool: return "bool";
    case AttrType::Str: return "str";
    case AttrType::Ints: return "ints";
    case AttrType::Floats: return "floats";
  }
  return "?";
}

std::string formatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

static std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string formatAttr(const Attr& a) {
  switch (attrType(a)) {
    case AttrType::Int: return std::to_string(std::get<int64_t>(a));
    case AttrType::Float: return formatDouble(std::get<double>(a));
    case AttrType::Bool: return std::get<bool>(a) ? "true" : "false";
    case AttrType::Str: return quote(std::get<std::string>(a));
    case AttrType::Ints: {
      std::string s = "[";
      const auto& v = std::get<std::vector<int64_t>>(a);
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      return s + "]";
    }
    case AttrType::Floats: {
      std::string s = "[";
      const auto& v = std::get<std::vector<double>>(a);
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + formatDouble(v[i]);
      return s + "]";
    }
  }
  return "?";
}

const Attr* Attrs::find(const std::string& k) const {
  auto it = map_.find(k);
  return it == map_.end() ? nullptr : &it->second;
}

template <class T>
static const T& getAs(const Attrs& attrs, const std::string& k) {
  const Attr* a = attrs.find(k);
  KILN_ASSERT(a && std::holds_alternative<T>(*a), "attribute '" + k + "' missing or mistyped");
  return std::get<T>(*a);
}

int64_t Attrs::getInt(const std::string& k) const { return getAs<int64_t>(*this, k); }
double Attrs::getFloat(const std::string& k) const { return getAs<double>(*this, k); }
bool Attrs::getBool(const std::string& k) const { return getAs<bool>(*this, k); }
const std::string& Attrs::getStr(const std::string& k) const {
  return getAs<std::string>(*this, k);
}
const std::vector<int64_t>& Attrs::getInts(const std::string& k) const {
  return getAs<std::vector<int64_t>>(*this, k);
}

std::vector<double> Attrs::getNumbers(const std::string& k) const {
  const Attr* a = find(k);
  KILN_ASSERT(a, "attribute '" + k + "' missing");
  if (auto* f = std::get_if<std::vector<double>>(a)) return *f;
  const auto& i = std::get<std::vector<int64_t>>(*a);
  return std::vector<double>(i.begin(), i.end());
}

}  // namespace kiln
