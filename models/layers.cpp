#include "models/layers.h"

namespace kiln {

// The ops are created bias read, weight read, product, sum: the order the models have always
// built them in, which fixes the schedule and so every result bit for bit.
Value* linear(Builder& b, Value* x, const std::string& prefix, WeightLayout layout) {
  Value* bias = b.readState(prefix + ".bias");
  Value* w = b.readState(prefix + ".weight");
  Value* y = layout == WeightLayout::InOut ? b.matmul(x, w) : b.matmul(x, w, false, true);
  return b.add(y, bias);
}

Value* layerNorm(Builder& b, Value* x, const std::string& prefix, double eps, NormScope scope) {
  auto norm = [&] {
    Value* bias = b.readState(prefix + ".bias");  // before the weight, as the models always did
    return b.layerNorm(x, b.readState(prefix + ".weight"), bias, eps);
  };
  if (scope == NormScope::None) return norm();
  auto named = b.scope(scope == NormScope::Prefix ? prefix : prefix.substr(prefix.rfind('.') + 1));
  return norm();
}

}  // namespace kiln
