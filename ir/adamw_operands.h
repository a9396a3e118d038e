// Where an AdamW update keeps each parameter's operands (ops.def): adamw_update takes p, g, m, v
// as operands 0-3 (then lr, decay, t); adamw_group's parameter j takes p, g, m, v, decay as
// operands 3 + 5j + 0..4 (after lr, t, gscale). Results are (p', m', v') per parameter: 3j + 0..2.
#pragma once

#include <cstddef>

#include "ir/module.h"

namespace kiln {

enum class AdamWOperand : size_t { P = 0, G = 1, M = 2, V = 3 };

inline size_t adamwParameters(const Op& op) { return op.kind == OpKind::AdamWGroup ? (op.operands.size() - 3) / 5 : 1; }

inline size_t adamwOperand(const Op& op, size_t param, AdamWOperand which) {
  return (op.kind == OpKind::AdamWGroup ? 3 + 5 * param : 0) + static_cast<size_t>(which);
}

}  // namespace kiln
