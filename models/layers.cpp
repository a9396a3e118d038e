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

Value* activation(Builder& b, const std::string& kind, const char* geluForm, Value* x) {
  return kind == "relu" ? b.relu(x) : b.gelu(x, geluForm);
}

Value* feedForward(Builder& b, Value* x, const std::string& up, const std::string& down, const std::string& kind,
                   const char* geluForm) {
  Value* h = activation(b, kind, geluForm, linear(b, x, up, WeightLayout::OutIn));
  return linear(b, h, down, WeightLayout::OutIn);
}

Value* splitHeads(Builder& b, Value* x, int64_t heads) {
  const int64_t B = x->type.shape[0], T = x->type.shape[1], D = x->type.shape[2] / heads;
  return b.transpose(b.reshape(x, {B, T, heads, D}), {0, 2, 1, 3});
}

Value* mergeHeads(Builder& b, Value* y) {
  const int64_t B = y->type.shape[0], H = y->type.shape[1], T = y->type.shape[2], D = y->type.shape[3];
  return b.reshape(b.transpose(y, {0, 2, 1, 3}), {B, T, H * D});
}

Value* paddingBias(Builder& b, Value* mask) {
  const int64_t B = mask->type.shape[0], S = mask->type.shape[1];
  const DType t = mask->type.dtype;
  return b.reshape(b.mul(b.sub(mask, b.scalar(1.0, t)), b.scalar(10000.0, t)), {B, 1, 1, S});
}

}  // namespace kiln
