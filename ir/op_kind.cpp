#include "ir/op_kind.h"

#include <array>
#include <cstdlib>

#include "ir/diagnostics.h"

namespace kiln {
namespace {

Attr parseDefault(AttrType type, const std::string& text) {
  switch (type) {
    case AttrType::Int: return int64_t(std::strtoll(text.c_str(), nullptr, 10));
    case AttrType::Float: return std::strtod(text.c_str(), nullptr);
    case AttrType::Bool: return text == "true";
    case AttrType::Str: return text;
    case AttrType::Ints:
      KILN_ASSERT(text == "[]", "ops.def: only [] is supported as an ints default");
      return std::vector<int64_t>{};
    case AttrType::Floats:
      KILN_ASSERT(text == "[]", "ops.def: only [] is supported as a floats default");
      return std::vector<double>{};
  }
  return int64_t(0);
}

// Parses an ops.def schema such as "axes:ints;keepdims:bool=false".
std::vector<AttrSpec> parseSchema(std::string_view schema) {
  std::vector<AttrSpec> out;
  while (!schema.empty()) {
    size_t end = schema.find(';');
    std::string entry(schema.substr(0, end));
    schema = end == std::string_view::npos ? "" : schema.substr(end + 1);
    size_t colon = entry.find(':');
    KILN_ASSERT(colon != std::string::npos, "ops.def: bad schema entry " + entry);
    AttrSpec spec;
    spec.name = entry.substr(0, colon);
    std::string rest = entry.substr(colon + 1);
    std::optional<std::string> def;
    if (size_t eq = rest.find('='); eq != std::string::npos) {
      def = rest.substr(eq + 1);
      rest = rest.substr(0, eq);
    }
    if (rest == "int") spec.type = AttrType::Int;
    else if (rest == "float") spec.type = AttrType::Float;
    else if (rest == "bool") spec.type = AttrType::Bool;
    else if (rest == "str") spec.type = AttrType::Str;
    else if (rest == "ints") spec.type = AttrType::Ints;
    else if (rest == "floats") spec.type = AttrType::Floats;
    else if (rest == "numbers") { spec.type = AttrType::Floats; spec.numbers = true; }
    else KILN_ASSERT(false, "ops.def: unknown attribute type " + rest);
    if (def) spec.defaultValue = parseDefault(spec.type, *def);
    out.push_back(std::move(spec));
  }
  return out;
}

std::array<OpInfo, kNumOpKinds> buildTable() {
  return {{
#define KILN_OP(kind, mn, minArgs, maxArgs, results, traits, schema) \
  OpInfo{OpKind::kind, mn, minArgs, maxArgs, results, unsigned(traits), parseSchema(schema)},
#include "ir/ops.def"
#undef KILN_OP
  }};
}

}  // namespace

const OpInfo& opInfo(OpKind k) {
  static const std::array<OpInfo, kNumOpKinds> table = buildTable();
  return table[size_t(k)];
}

std::string_view mnemonic(OpKind k) { return opInfo(k).mnemonic; }

std::optional<OpKind> opKindFromMnemonic(std::string_view m) {
  for (OpKind k : kAllOpKinds)
    if (mnemonic(k) == m) return k;
  return std::nullopt;
}

const AttrSpec* findAttrSpec(OpKind k, std::string_view name) {
  for (const AttrSpec& s : opInfo(k).attrs)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace kiln
