#include "ir/builder.h"

#include "ir/shape_inference.h"
#include "ir/verifier.h"

namespace kiln {

Builder::ScopeGuard Builder::scope(const std::string& component) {
  size_t prev = name_.size();
  name_ += (name_.empty() ? "" : ".") + component;
  return ScopeGuard(*this, prev);
}

Value* Builder::param(const std::string& name, TensorType type) {
  return f_.addParam(name, std::move(type));
}

void Builder::output(const std::string& name, Value* v) { f_.addOutput(name, v); }

Op* Builder::create(OpKind kind, std::vector<Value*> operands, Attrs attrs,
                    std::vector<TensorType> declared) {
  fillDefaultAttrs(kind, attrs);
  std::string where = std::string(mnemonic(kind)) + (name_.empty() ? "" : " in " + name_);
  auto attrError = checkAttrs(kind, attrs);
  KILN_ASSERT(attrError.empty(), where + ": " + attrError);
  std::vector<TensorType> in;
  for (Value* v : operands) in.push_back(v->type);
  const OpInfo& info = opInfo(kind);
  KILN_ASSERT(int(operands.size()) >= info.minOperands && int(operands.size()) <= info.maxOperands,
              where + ": wrong number of operands");
  InferResult r = inferResultTypes(kind, in, attrs, declared);
  KILN_ASSERT(r.ok(), where + ": " + r.error);
  Op* op = f_.appendOp(kind, std::move(operands), std::move(r.types), std::move(attrs));
  op->name = name_;
  op->loc = loc_;
  return op;
}

static Attrs attrsOf(std::initializer_list<std::pair<const char*, Attr>> kv) {
  Attrs a;
  for (auto& [k, v] : kv) a.set(k, v);
  return a;
}

Value* Builder::constant(const std::vector<double>& values, TensorType type) {
  Attr v;
  if (isFloat(type.dtype)) {
    v = values;
  } else {
    std::vector<int64_t> ints;
    for (double d : values) ints.push_back(int64_t(d));
    v = ints;
  }
  return create1(OpKind::Constant, {}, attrsOf({{"value", v}}), {std::move(type)});
}

Value* Builder::iota(TensorType type, int64_t axis) {
  return create1(OpKind::Iota, {}, attrsOf({{"axis", axis}}), {std::move(type)});
}
Value* Builder::randomUniform(Value* seed, TensorType type, double low, double high) {
  return create1(OpKind::RandomUniform, {seed}, attrsOf({{"low", low}, {"high", high}}), {std::move(type)});
}
Value* Builder::randomNormal(Value* seed, TensorType type, double mean, double std) {
  return create1(OpKind::RandomNormal, {seed}, attrsOf({{"mean", mean}, {"std", std}}), {std::move(type)});
}
Value* Builder::gelu(Value* x, const std::string& approx) {
  return create1(OpKind::Gelu, {x}, attrsOf({{"approx", approx}}));
}
Value* Builder::cast(Value* x, DType to) {
  return create1(OpKind::Cast, {x}, {}, {TensorType{to, x->type.shape}});
}

Value* Builder::reduceSum(Value* x, std::vector<int64_t> axes, bool keepdims) {
  return create1(OpKind::ReduceSum, {x}, attrsOf({{"axes", axes}, {"keepdims", keepdims}}));
}
Value* Builder::reduceMax(Value* x, std::vector<int64_t> axes, bool keepdims) {
  return create1(OpKind::ReduceMax, {x}, attrsOf({{"axes", axes}, {"keepdims", keepdims}}));
}
Value* Builder::reduceMean(Value* x, std::vector<int64_t> axes, bool keepdims) {
  return create1(OpKind::ReduceMean, {x}, attrsOf({{"axes", axes}, {"keepdims", keepdims}}));
}

Value* Builder::reshape(Value* x, Shape shape) {
  return create1(OpKind::Reshape, {x}, {}, {TensorType{x->type.dtype, std::move(shape)}});
}
Value* Builder::transpose(Value* x, std::vector<int64_t> perm) {
  return create1(OpKind::Transpose, {x}, attrsOf({{"perm", perm}}));
}
Value* Builder::broadcastTo(Value* x, Shape shape) {
  return create1(OpKind::BroadcastTo, {x}, {}, {TensorType{x->type.dtype, std::move(shape)}});
}
Value* Builder::slice(Value* x, std::vector<int64_t> start, std::vector<int64_t> limit,
                      std::vector<int64_t> stride) {
  return create1(OpKind::Slice, {x},
                 attrsOf({{"start", start}, {"limit", limit}, {"stride", stride}}));
}
Value* Builder::concat(std::vector<Value*> xs, int64_t axis) {
  return create1(OpKind::Concat, std::move(xs), attrsOf({{"axis", axis}}));
}
Value* Builder::pad(Value* x, std::vector<int64_t> low, std::vector<int64_t> high, double value,
                    std::vector<int64_t> interior) {
  return create1(OpKind::Pad, {x},
                 attrsOf({{"low", low}, {"high", high}, {"value", value}, {"interior", interior}}));
}

Value* Builder::gather(Value* table, Value* indices, int64_t axis) {
  return create1(OpKind::Gather, {table, indices}, attrsOf({{"axis", axis}}));
}
Value* Builder::scatterAdd(Value* target, Value* indices, Value* updates, int64_t axis) {
  return create1(OpKind::ScatterAdd, {target, indices, updates}, attrsOf({{"axis", axis}}));
}
Value* Builder::matmul(Value* a, Value* b, bool transposeA, bool transposeB) {
  return create1(OpKind::Matmul, {a, b},
                 attrsOf({{"transpose_a", transposeA}, {"transpose_b", transposeB}}));
}

Value* Builder::softmax(Value* x, int64_t axis) {
  return create1(OpKind::Softmax, {x}, attrsOf({{"axis", axis}}));
}
Value* Builder::logSoftmax(Value* x, int64_t axis) {
  return create1(OpKind::LogSoftmax, {x}, attrsOf({{"axis", axis}}));
}
Value* Builder::layerNorm(Value* x, Value* gain, Value* bias, double eps) {
  return create1(OpKind::LayerNorm, {x, gain, bias}, attrsOf({{"eps", eps}}));
}
Value* Builder::crossEntropy(Value* logits, Value* labels, int64_t ignoreIndex,
                             const std::string& reduction) {
  return create1(OpKind::CrossEntropy, {logits, labels},
                 attrsOf({{"ignore_index", ignoreIndex}, {"reduction", reduction}}));
}
Value* Builder::attention(Value* q, Value* k, Value* v, Value* mask, bool causal, double scale) {
  std::vector<Value*> operands{q, k, v};
  if (mask) operands.push_back(mask);
  return create1(OpKind::Attention, std::move(operands),
                 attrsOf({{"causal", causal}, {"scale", scale}}));
}
Value* Builder::dropout(Value* x, Value* seed, double rate) {
  return create1(OpKind::Dropout, {x, seed}, attrsOf({{"rate", rate}}));
}

Value* Builder::readState(const std::string& name) {
  const StateVar* s = m_.findState(name);
  KILN_ASSERT(s, "read of undefined state @" + name);
  Op* op = create(OpKind::StateRead, {}, {}, {s->type});
  op->stateRef = name;
  return op->result();
}

void Builder::assignState(const std::string& name, Value* v) {
  const StateVar* s = m_.findState(name);
  KILN_ASSERT(s, "assignment to undefined state @" + name);
  KILN_ASSERT(s->type == v->type, "state_assign @" + name + ": type " + v->type.str() +
                                      " does not match " + s->type.str());
  create(OpKind::StateAssign, {v})->stateRef = name;
}

}  // namespace kiln
