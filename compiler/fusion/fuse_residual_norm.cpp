// A residual add followed by a layer norm of the sum becomes one add_layer_norm (the sum is
// normalized while its row is in cache instead of being read back), and in the backward pass
// the layer norm's input gradient absorbs the residual gradient it is added to
// (layer_norm_grad's optional addend: one pass instead of a separate add over [B, T, C]).
//
// Algorithm: (1) for each layer_norm whose input is an add of two values of its own type, when
// no op before the layer_norm uses the sum, an add_layer_norm(x, y, gain, bias) is inserted at
// the layer_norm's position; its results replace the sum and the layer norm everywhere.
// (2) For each add of two values of one type where one is a 3-operand layer_norm_grad's dx with
// no other use and the other is defined before that layer_norm_grad, the other becomes the
// layer_norm_grad's addend and its dx replaces the add. Replaced ops are erased; the old adds
// die when nothing else uses them (dce).
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"

namespace kiln {
namespace {

class FuseResidualNorm : public Pass {
 public:
  std::string name() const override { return "fuse-residual-norm"; }
  std::string description() const override { return "residual add + layer norm (and their gradients) in one op"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) changed |= forward(*f) | backward(*f);
    return changed;
  }

 private:
  static bool sameTypeAdd(const Op* op) {
    return op && op->kind == OpKind::Add && op->operands[0]->type == op->result()->type &&
           op->operands[1]->type == op->result()->type;
  }

  static bool forward(Function& f) {
    // Whether an op between the add and the layer norm at `i` uses the sum.
    auto usedBefore = [&](const Value* sum, size_t i) {
      for (size_t j = i; j-- > 0 && f.ops[j].get() != sum->def;)
        for (const Value* v : f.ops[j]->operands)
          if (v == sum) return true;
      return false;
    };
    std::unordered_set<const Op*> replaced;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* ln = f.ops[i].get();
      if (ln->kind != OpKind::LayerNorm) continue;
      Value* sum = ln->operands[0];
      Op* add = sum->def;
      if (!sameTypeAdd(add) || usedBefore(sum, i)) continue;
      Op* fused = f.insertOp(i, OpKind::AddLayerNorm, {add->operands[0], add->operands[1], ln->operands[1], ln->operands[2]},
                             {sum->type, sum->type}, ln->attrs);
      fused->name = ln->name;
      fused->loc = ln->loc;
      fused->result(0)->name = sum->name;
      fused->result(1)->name = ln->result()->name;
      f.replaceAllUses(sum, fused->result(0));
      f.replaceAllUses(ln->result(), fused->result(1));
      replaced.insert(ln);
      replaced.insert(add);
      ++i;
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });
    return !replaced.empty();
  }

  static bool backward(Function& f) {
    std::unordered_map<const Value*, int> uses = countUses(f);
    std::unordered_map<const Op*, size_t> index;
    for (size_t i = 0; i < f.ops.size(); ++i) index[f.ops[i].get()] = i;
    std::unordered_set<const Op*> replaced;
    for (const auto& op : f.ops) {
      if (!sameTypeAdd(op.get())) continue;
      for (int side = 0; side < 2; ++side) {
        Value* dx = op->operands[size_t(side)];
        Value* other = op->operands[size_t(1 - side)];
        Op* grad = dx->def;
        if (!grad || grad->kind != OpKind::LayerNormGrad || grad->operands.size() != 3 || dx->index != 0 || uses[dx] != 1)
          continue;
        if (other->def && index.at(other->def) >= index.at(grad)) continue;  // not yet defined there
        grad->operands.push_back(other);
        f.replaceAllUses(op->result(), dx);
        replaced.insert(op.get());
        break;
      }
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });
    return !replaced.empty();
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseResidualNorm() { return std::make_unique<FuseResidualNorm>(); }

}  // namespace kiln
