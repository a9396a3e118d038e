// The verifier: arity, attribute, dtype and shape rules of every op, SSA dominance, state
// references and function signatures. Everything it reports is a located Diagnostic.
#pragma once

#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

// Checks a whole module; returns every problem found (empty when valid).
std::vector<Diagnostic> verifyModule(const Module& m);

// Checks one type against the size limits (rank, dims, element count).
std::string checkTypeLimits(const TensorType& t);  // empty when fine

// Checks an op's attributes against its schema (unknown, missing, mistyped).
std::string checkAttrs(OpKind kind, const Attrs& attrs);  // empty when fine

// Adds schema defaults for attributes the op does not set.
void fillDefaultAttrs(OpKind kind, Attrs& attrs);

// Where a diagnostic about `op` should point: its place in the IR text, else its source.
Location diagLoc(const Op& op, const Function& f);

}  // namespace kiln
