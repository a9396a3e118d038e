// The builder: how model code writes IR. Each call checks and infers types (a failure is a bug
// in the model code, reported with the op and its operand types) and stamps the op with the
// current component name and source location.
//
//   Builder b(module, module.addFunction("forward"));
//   Value* x = b.param("x", {DType::F32, {8, 384}});
//   { auto s = b.scope("h0.mlp.c_fc");  Value* h = b.gelu(b.matmul(x, b.readState("w"))); }
#pragma once

#include <string>
#include <vector>

#include "ir/module.h"

namespace kiln {

class Builder {
 public:
  Builder(Module& m, Function& f) : m_(m), f_(f) {}

  Module& module() { return m_; }
  Function& function() { return f_; }

  // The component name given to ops created while the returned guard lives ("h0" then
  // "attn" gives "h0.attn").
  class ScopeGuard {
   public:
    ScopeGuard(Builder& b, size_t prevLen) : b_(b), prevLen_(prevLen) {}
    ~ScopeGuard() { b_.name_.resize(prevLen_); }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

   private:
    Builder& b_;
    size_t prevLen_;
  };
  [[nodiscard]] ScopeGuard scope(const std::string& component);
  void setLocation(Location loc) { loc_ = std::move(loc); }
  // Sets the component name outright (autodiff stamps gradient ops with "<forward name>.grad").
  void setName(std::string name) { name_ = std::move(name); }
  const std::string& currentName() const { return name_; }

  Value* param(const std::string& name, TensorType type);
  void output(const std::string& name, Value* v);

  // Generic creation with attributes (schema defaults are filled in).
  Op* create(OpKind kind, std::vector<Value*> operands, Attrs attrs = {},
             std::vector<TensorType> declared = {});
  Value* create1(OpKind kind, std::vector<Value*> operands, Attrs attrs = {},
                 std::vector<TensorType> declared = {}) {
    return create(kind, std::move(operands), std::move(attrs), std::move(declared))->result();
  }

  // Sources.
  Value* constant(const std::vector<double>& values, TensorType type);
  Value* scalar(double v, DType dt = DType::F32) { return constant({v}, {dt, {}}); }
  Value* full(double v, TensorType type) { return constant({v}, std::move(type)); }
  Value* iota(TensorType type, int64_t axis);
  Value* randomUniform(Value* seed, TensorType type, double low = 0, double high = 1);
  Value* randomNormal(Value* seed, TensorType type, double mean = 0, double std = 1);

  // Elementwise.
  Value* neg(Value* x) { return create1(OpKind::Neg, {x}); }
  Value* abs(Value* x) { return create1(OpKind::Abs, {x}); }
  Value* exp(Value* x) { return create1(OpKind::Exp, {x}); }
  Value* log(Value* x) { return create1(OpKind::Log, {x}); }
  Value* sqrt(Value* x) { return create1(OpKind::Sqrt, {x}); }
  Value* rsqrt(Value* x) { return create1(OpKind::Rsqrt, {x}); }
  Value* tanh(Value* x) { return create1(OpKind::Tanh, {x}); }
  Value* sin(Value* x) { return create1(OpKind::Sin, {x}); }
  Value* cos(Value* x) { return create1(OpKind::Cos, {x}); }
  Value* sigmoid(Value* x) { return create1(OpKind::Sigmoid, {x}); }
  Value* relu(Value* x) { return create1(OpKind::Relu, {x}); }
  Value* gelu(Value* x, const std::string& approx = "tanh");
  Value* cast(Value* x, DType to);
  Value* add(Value* a, Value* b) { return create1(OpKind::Add, {a, b}); }
  Value* sub(Value* a, Value* b) { return create1(OpKind::Sub, {a, b}); }
  Value* mul(Value* a, Value* b) { return create1(OpKind::Mul, {a, b}); }
  Value* div(Value* a, Value* b) { return create1(OpKind::Div, {a, b}); }
  Value* max(Value* a, Value* b) { return create1(OpKind::Max, {a, b}); }
  Value* min(Value* a, Value* b) { return create1(OpKind::Min, {a, b}); }
  Value* pow(Value* a, Value* b) { return create1(OpKind::Pow, {a, b}); }
  Value* compare(OpKind cmp, Value* a, Value* b) { return create1(cmp, {a, b}); }
  Value* select(Value* c, Value* a, Value* b) { return create1(OpKind::Select, {c, a, b}); }

  // Reductions.
  Value* reduceSum(Value* x, std::vector<int64_t> axes, bool keepdims = false);
  Value* reduceMax(Value* x, std::vector<int64_t> axes, bool keepdims = false);
  Value* reduceMean(Value* x, std::vector<int64_t> axes, bool keepdims = false);

  // Shape.
  Value* reshape(Value* x, Shape shape);
  Value* transpose(Value* x, std::vector<int64_t> perm);
  Value* broadcastTo(Value* x, Shape shape);
  Value* slice(Value* x, std::vector<int64_t> start, std::vector<int64_t> limit,
               std::vector<int64_t> stride = {});
  Value* concat(std::vector<Value*> xs, int64_t axis);
  Value* pad(Value* x, std::vector<int64_t> low, std::vector<int64_t> high, double value = 0,
             std::vector<int64_t> interior = {});

  // Indexing and contraction.
  Value* gather(Value* table, Value* indices, int64_t axis = 0);
  Value* scatterAdd(Value* target, Value* indices, Value* updates, int64_t axis = 0);
  Value* matmul(Value* a, Value* b, bool transposeA = false, bool transposeB = false);

  // Composites.
  Value* softmax(Value* x, int64_t axis = -1);
  Value* logSoftmax(Value* x, int64_t axis = -1);
  Value* layerNorm(Value* x, Value* gain, Value* bias, double eps = 1e-5);
  Value* crossEntropy(Value* logits, Value* labels, int64_t ignoreIndex = -100,
                      const std::string& reduction = "mean");
  Value* attention(Value* q, Value* k, Value* v, Value* mask, bool causal, double scale = 0);
  Value* dropout(Value* x, Value* seed, double rate);

  // State.
  Value* readState(const std::string& name);
  void assignState(const std::string& name, Value* v);

 private:
  Module& m_;
  Function& f_;
  std::string name_;
  Location loc_;
};

}  // namespace kiln
