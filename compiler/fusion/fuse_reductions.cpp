// A fused elementwise op whose only use is a reduce_sum over its trailing dims becomes one
// fused_sum: the program is summed as it is computed, so the elementwise result (as large as
// its input, e.g. the squares of a gradient for the clipping norm) is never written.
//
// Algorithm: for each reduce_sum without keepdims whose operand is made by a `fused` op used
// only there, whose axes are exactly the dims [k, rank) of that operand (k < rank), and whose
// fused operands are each whole (the fused result's element count) or a single value, a
// fused_sum with the fused op's operands and program and axis k is inserted at the
// reduce_sum's position and replaces it; both old ops are erased.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"
#include "ir/shape_inference.h"

namespace kiln {
namespace {

class FuseReductions : public FunctionPass {
 public:
  std::string name() const override { return "fuse-reductions"; }
  std::string description() const override { return "sum a fused elementwise program as it is computed (fused_sum)"; }


 private:
  bool runOn(Function& f) override {
    std::unordered_map<const Value*, int> uses = countUses(f);
    std::unordered_set<const Op*> replaced;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* red = f.ops[i].get();
      if (red->kind != OpKind::ReduceSum || red->attrs.getBool("keepdims")) continue;
      Value* v = red->operands[0];
      Op* fused = v->def;
      if (!fused || fused->kind != OpKind::Fused || uses[v] != 1) continue;
      auto axis = trailingAxis(red->attrs.getInts("axes"), v->type.rank());
      if (!axis) continue;
      bool plannable = true;
      for (const Value* o : fused->operands)
        plannable &= o->type.numElements() == 1 || o->type.numElements() == v->type.numElements();
      if (!plannable) continue;
      Attrs attrs;
      attrs.set("expr", fused->attrs.getStr("expr"));
      attrs.set("axis", int64_t(*axis));
      Op* sum = f.insertOp(i, OpKind::FusedSum, fused->operands, {red->result()->type}, attrs);
      sum->name = red->name;
      sum->loc = red->loc;
      sum->result()->name = red->result()->name;
      f.replaceAllUses(red->result(), sum->result());
      replaced.insert(red);
      replaced.insert(fused);
      ++i;
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });
    return !replaced.empty();
  }

  // k when the axes are exactly [k, rank) with k < rank.
  static std::optional<int> trailingAxis(std::vector<int64_t> axes, int rank) {
    if (axes.empty() || rank == 0) return std::nullopt;
    for (auto& a : axes) {
      auto n = normalizeAxis(a, rank);
      if (!n) return std::nullopt;
      a = *n;
    }
    std::sort(axes.begin(), axes.end());
    int k = rank - int(axes.size());
    for (size_t j = 0; j < axes.size(); ++j)
      if (axes[j] != k + int64_t(j)) return std::nullopt;
    return k;
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseReductions() { return std::make_unique<FuseReductions>(); }

}  // namespace kiln
