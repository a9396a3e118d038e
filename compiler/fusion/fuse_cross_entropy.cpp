// A cross_entropy and the cross_entropy_grad of the same logits, labels and attributes become
// one cross_entropy_with_grad: one pass over the logits (for a language model's head, the
// largest tensor of the step) instead of two, and the exponentials are computed once.
//
// Algorithm: for each cross_entropy_grad, the cross_entropy before it with the same operands
// and attributes is its partner when no op between them uses the loss. The fused op is
// inserted at the gradient's position (its incoming gradient is defined by then); it replaces
// both results, and both ops are erased.
#include <unordered_set>

#include "compiler/pass.h"

namespace kiln {
namespace {

class FuseCrossEntropy : public FunctionPass {
 public:
  std::string name() const override { return "fuse-cross-entropy"; }
  std::string description() const override { return "a cross-entropy and its gradient in one pass over the logits"; }

 private:
  bool runOn(Function& f) override {
    std::unordered_set<const Op*> replaced;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* grad = f.ops[i].get();
      if (grad->kind != OpKind::CrossEntropyGrad) continue;
      Op* loss = partner(f, i);
      if (!loss) continue;
      Op* fused = f.insertOp(i, OpKind::CrossEntropyWithGrad, grad->operands, {loss->result()->type, grad->result()->type},
                             grad->attrs);
      fused->name = loss->name;
      fused->loc = loss->loc;
      fused->result(0)->name = loss->result()->name;
      fused->result(1)->name = grad->result()->name;
      f.replaceAllUses(loss->result(), fused->result(0));
      f.replaceAllUses(grad->result(), fused->result(1));
      replaced.insert(loss);
      replaced.insert(grad);
      ++i;
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });
    return !replaced.empty();
  }

  // The cross_entropy the gradient at `i` differentiates, if nothing between them reads its loss.
  static Op* partner(Function& f, size_t i) {
    const Op* grad = f.ops[i].get();
    std::unordered_set<const Value*> losses;  // results of candidates seen on the way back
    for (size_t j = i; j-- > 0;) {
      Op* op = f.ops[j].get();
      if (op->kind == OpKind::CrossEntropy && op->operands[0] == grad->operands[0] && op->operands[1] == grad->operands[1] &&
          op->attrs.getInt("ignore_index") == grad->attrs.getInt("ignore_index") &&
          op->attrs.getStr("reduction") == grad->attrs.getStr("reduction")) {
        for (size_t k = j + 1; k < i; ++k)
          for (const Value* v : f.ops[k]->operands)
            if (v == op->result()) return nullptr;
        return op;
      }
    }
    return nullptr;
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseCrossEntropy() { return std::make_unique<FuseCrossEntropy>(); }

}  // namespace kiln
