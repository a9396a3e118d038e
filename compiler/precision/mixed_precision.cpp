// Mixed precision: the products of matmuls and attention take their inputs in a narrower float
// type (bf16) and accumulate in f32.
//
// Algorithm: in every function, for each matmul, matmul_bias, attention and attention_grad whose
// product operands are f32 (matmul: a and b; attention: q, k, v; attention_grad: q, k, v and the
// incoming gradient), each such operand is replaced by a `cast` of it to `dtype`, made once per
// value just before its first such use (a weight's cast serves its forward and backward
// products), and the op declares f32 results. Bias, residual and mask operands stay f32, as do
// the parameters (the master weights), the optimizer state, layer norms, softmax, the loss and
// every elementwise op: only what a product reads is rounded.
// Invariants: the casts are ordinary IR ops (every device rounds where the reference does);
// result types are unchanged, so nothing downstream sees a bf16 value except the products.
#include <unordered_map>

#include "compiler/pass.h"

namespace kiln {
namespace {

// The operands of `op` that its product reads (empty for other ops).
std::vector<size_t> productOperands(const Op& op) {
  switch (op.kind) {
    case OpKind::Matmul:
    case OpKind::MatmulBias: return {0, 1};
    case OpKind::Attention: return {0, 1, 2};
    case OpKind::AttentionGrad: return {0, 1, 2, 3};
    default: return {};
  }
}

class MixedPrecision : public Pass {
 public:
  explicit MixedPrecision(DType narrow) : narrow_(narrow) {}
  std::string name() const override { return "mixed-precision"; }
  std::string description() const override { return "matmul and attention inputs in bf16, f32 accumulation"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) changed |= runOn(*f);
    return changed;
  }

 private:
  bool runOn(Function& f) {
    std::unordered_map<const Value*, Value*> narrowed;
    bool changed = false;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* op = f.ops[i].get();
      const std::vector<size_t> product = productOperands(*op);
      if (product.empty()) continue;
      bool allF32 = true;
      for (size_t k : product) allF32 &= op->operands[k]->type.dtype == DType::F32;
      for (const auto& r : op->results) allF32 &= r->type.dtype == DType::F32;
      if (!allF32) continue;
      for (size_t k : product) {
        Value*& cast = narrowed[op->operands[k]];
        if (!cast) {
          TensorType t = op->operands[k]->type;
          t.dtype = narrow_;
          Op* c = f.insertOp(i++, OpKind::Cast, {op->operands[k]}, {t});
          c->name = op->name;
          c->loc = op->loc;
          cast = c->result();
        }
        op->operands[k] = cast;
      }
      changed = true;  // results stay f32: declared, accumulated in f32
    }
    return changed;
  }

  DType narrow_;
};

}  // namespace

Expected<std::unique_ptr<Pass>> createMixedPrecisionPass(const PassOptions& options) {
  DType narrow = DType::BF16;
  for (const auto& [key, value] : options) {
    if (key != "dtype") return makeError({}, "pass 'mixed-precision' takes dtype, got '" + key + "'");
    if (value != "bf16") return makeError({}, "mixed-precision{dtype=...} takes bf16, got '" + value + "'");
  }
  return std::unique_ptr<Pass>(std::make_unique<MixedPrecision>(narrow));
}

}  // namespace kiln
