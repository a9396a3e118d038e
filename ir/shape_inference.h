// Result types of every op kind from its operand types and attributes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/attributes.h"
#include "ir/op_kind.h"
#include "ir/types.h"

namespace kiln {

// numpy broadcasting: shapes are aligned on the right; each pair of dims must be equal or one
// of them 1; missing leading dims count as 1.
std::optional<Shape> broadcastShapes(const Shape& a, const Shape& b);
// Whether `from` broadcasts to exactly `to`.
bool broadcastsTo(const Shape& from, const Shape& to);
// Normalizes a possibly negative axis against `rank`; nullopt when out of range.
std::optional<int> normalizeAxis(int64_t axis, int rank);

// Checks the operands and (already defaulted) attributes of an op of kind `kind` and returns its
// result types. For kDeclaredType kinds `declared` holds the stated types, which are checked and
// returned. The error is a message without location; the caller adds one.
struct InferResult {
  std::vector<TensorType> types;
  std::string error;  // non-empty on failure
  bool ok() const { return error.empty(); }
};
InferResult inferResultTypes(OpKind kind, const std::vector<TensorType>& operands,
                             const Attrs& attrs, const std::vector<TensorType>& declared);

}  // namespace kiln
