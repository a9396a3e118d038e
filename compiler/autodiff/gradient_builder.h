// The state of one reverse sweep, shared by the driver (autodiff.cpp) and the per-op rules
// (vjp_rules.cpp).
#pragma once

#include <unordered_map>
#include <unordered_set>

#include "ir/builder.h"

namespace kiln {

class GradientBuilder {
 public:
  GradientBuilder(Module& m, Function& f) : b(m, f) {}

  // The builder that rules write gradient ops with (name and location already set to the
  // forward op's, name suffixed ".grad").
  Builder b;

  // Whether `v` needs a gradient: floating point and depending on a differentiated source.
  bool wants(const Value* v) const { return active_.count(v) != 0; }
  void markActive(const Value* v) { active_.insert(v); }

  // Adds `g` to the gradient of `v`, first summing away dims that `v` was broadcast along.
  void accumulate(Value* v, Value* g);
  Value* gradientOf(const Value* v) const {
    auto it = adjoints_.find(v);
    return it == adjoints_.end() ? nullptr : it->second;
  }

  // Sums `g` down to `shape` (the inverse of numpy broadcasting).
  Value* reduceTo(Value* g, const Shape& shape);
  Value* zerosLike(const Value* v) { return b.full(0.0, v->type); }
  Value* scalarLike(double x, const Value* v) { return b.scalar(x, v->type.dtype); }

 private:
  std::unordered_set<const Value*> active_;
  std::unordered_map<const Value*, Value*> adjoints_;
};

// Emits the vector-Jacobian product of `op`: reads the gradients of its results and
// accumulates into its operands. Fails for ops that cannot be differentiated where they stand.
Status emitVjp(GradientBuilder& gb, const Op& op);

}  // namespace kiln
