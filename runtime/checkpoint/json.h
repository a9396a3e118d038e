// A small JSON reader/writer for the formats kiln exchanges (safetensors headers, metrics).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln::json {

struct Value;
using Object = std::map<std::string, Value>;
using Array = std::vector<Value>;

struct Value {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<Array>, std::shared_ptr<Object>> v;

  bool isObject() const { return std::holds_alternative<std::shared_ptr<Object>>(v); }
  bool isArray() const { return std::holds_alternative<std::shared_ptr<Array>>(v); }
  bool isString() const { return std::holds_alternative<std::string>(v); }
  bool isNumber() const { return std::holds_alternative<double>(v); }
  const Object& object() const { return *std::get<std::shared_ptr<Object>>(v); }
  const Array& array() const { return *std::get<std::shared_ptr<Array>>(v); }
  const std::string& string() const { return std::get<std::string>(v); }
  double number() const { return std::get<double>(v); }
};

// Parses a complete JSON document; errors name `origin` and the byte offset.
Expected<Value> parse(const std::string& text, const std::string& origin);
std::string quote(const std::string& s);

}  // namespace kiln::json
