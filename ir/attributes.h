// Typed op attributes: a sorted name -> value map, so printing is canonical.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

enum class AttrType { Int, Float, Bool, Str, Ints, Floats };

using Attr = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                          std::vector<double>>;

AttrType attrType(const Attr& a);
const char* attrTypeName(AttrType t);

// Shortest text that parses back to the same double; always has a '.', 'e', "inf" or "nan"
// so that it never reads back as an integer.
std::string formatDouble(double v);
std::string formatAttr(const Attr& a);

class Attrs {
 public:
  bool has(const std::string& k) const { return map_.count(k) != 0; }
  void set(const std::string& k, Attr v) { map_[k] = std::move(v); }
  void erase(const std::string& k) { map_.erase(k); }
  const Attr* find(const std::string& k) const;

  // Typed getters; the verifier has checked presence and types, so a mismatch here is a bug.
  int64_t getInt(const std::string& k) const;
  double getFloat(const std::string& k) const;
  bool getBool(const std::string& k) const;
  const std::string& getStr(const std::string& k) const;
  const std::vector<int64_t>& getInts(const std::string& k) const;
  // A "numbers" attribute (ints or floats) as doubles.
  std::vector<double> getNumbers(const std::string& k) const;

  const std::map<std::string, Attr>& entries() const { return map_; }
  bool operator==(const Attrs&) const = default;

 private:
  std::map<std::string, Attr> map_;
};

}  // namespace kiln
