// Op kinds and their static properties, all derived from ops.def.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/attributes.h"

namespace kiln {

enum class OpKind {
#define KILN_OP(kind, mnemonic, minArgs, maxArgs, results, traits, schema) kind,
#include "ir/ops.def"
#undef KILN_OP
};

inline constexpr OpKind kAllOpKinds[] = {
#define KILN_OP(kind, mnemonic, minArgs, maxArgs, results, traits, schema) OpKind::kind,
#include "ir/ops.def"
#undef KILN_OP
};
inline constexpr int kNumOpKinds = int(sizeof(kAllOpKinds) / sizeof(kAllOpKinds[0]));

enum OpTrait : unsigned {
  kPure = 1u << 0,          // no side effects: may be removed, merged, reordered
  kUnary = 1u << 1,         // one operand, same type out (elementwise)
  kBinary = 1u << 2,        // two operands, numpy broadcasting (elementwise)
  kComparison = 1u << 3,    // binary with a bool result
  kReduction = 1u << 4,     // reduces `axes`, optional `keepdims`
  kDeclaredType = 1u << 5,  // the result type is stated, not inferred from the operands
  kStateRef = 1u << 6,      // refers to a module state variable by name
  kCommutative = 1u << 7,
  kFloatOnly = 1u << 8,     // floating point operands only
  kGradient = 1u << 9,      // a backward op made by autodiff
};

// One attribute an op kind accepts.
struct AttrSpec {
  std::string name;
  AttrType type;
  bool numbers = false;           // accepts ints or floats
  std::optional<Attr> defaultValue;  // none: required
};

struct OpInfo {
  OpKind kind;
  std::string_view mnemonic;
  int minOperands;
  int maxOperands;
  int numResults;  // -1: variadic (shape inference decides from the operands)
  unsigned traits;
  std::vector<AttrSpec> attrs;
};

const OpInfo& opInfo(OpKind k);
std::string_view mnemonic(OpKind k);
std::optional<OpKind> opKindFromMnemonic(std::string_view m);
inline bool hasTrait(OpKind k, OpTrait t) { return (opInfo(k).traits & t) != 0; }
const AttrSpec* findAttrSpec(OpKind k, std::string_view name);

}  // namespace kiln
