#include "models/layers.h"

namespace kiln {

Value* linear(Builder& b, Value* x, const std::string& prefix, WeightLayout layout) {
  Value* w = b.readState(prefix + ".weight");
  Value* y = layout == WeightLayout::InOut ? b.matmul(x, w) : b.matmul(x, w, false, true);
  return b.add(y, b.readState(prefix + ".bias"));
}

Value* layerNorm(Builder& b, Value* x, const std::string& prefix, double eps, NormScope scope) {
  auto norm = [&] { return b.layerNorm(x, b.readState(prefix + ".weight"), b.readState(prefix + ".bias"), eps); };
  if (scope == NormScope::None) return norm();
  auto named = b.scope(scope == NormScope::Prefix ? prefix : prefix.substr(prefix.rfind('.') + 1));
  return norm();
}

}  // namespace kiln
