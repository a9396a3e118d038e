// Optimizer-state sharding (ZeRO stage 1): each data-parallel rank keeps and updates 1/N of the
// AdamW moments.
//
// Algorithm: every `adamw_update` and `adamw_group` of the module gets `shard = true`: on N ranks
// each updates elements [n r / N, n (r + 1) / N) of each parameter from the (already averaged)
// gradient, keeps only those elements of the parameter's moments, and the updated parameters
// are gathered whole on every rank (see the op in docs/ir.md). Refused unless every moment is
// read only by its update and the update's new moments replace the state in place (so a device
// never needs the whole moment): the skip-on-divergence gate (a select between old and new
// moments) and the unfused AdamW lowering do not qualify.
// Invariants: one rank computes exactly what it computes without the pass; no op is added.
#include <set>

#include "compiler/pass.h"
#include "ir/adamw_operands.h"

namespace kiln {
namespace {

class ShardOptimizer : public Pass {
 public:
  std::string name() const override { return "shard-optimizer"; }
  std::string description() const override { return "each rank keeps 1/N of the AdamW moments (ZeRO-1)"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) {
      // How often each value is read, and whether an update's new moment goes straight back.
      std::map<const Value*, int> uses;
      std::map<const Value*, std::string> assigned;
      for (const auto& op : f->ops) {
        for (const Value* v : op->operands) ++uses[v];
        if (op->kind == OpKind::StateAssign) assigned[op->operands[0]] = op->stateRef;
      }
      for (auto& op : f->ops) {
        if (op->kind != OpKind::AdamWUpdate && op->kind != OpKind::AdamWGroup) continue;
        for (size_t j = 0; j < adamwParameters(*op); ++j)
          for (AdamWOperand which : {AdamWOperand::M, AdamWOperand::V}) {
            const Value* moment = op->operands[adamwOperand(*op, j, which)];
            const Value* updated = op->result(int(3 * j + (which == AdamWOperand::M ? 1 : 2)));
            const bool fromState = moment->def && moment->def->kind == OpKind::StateRead;
            const std::string state = fromState ? moment->def->stateRef : "";
            if (!fromState || uses[moment] != 1 || !assigned.count(updated) || assigned.at(updated) != state)
              return makeError(op->loc, "shard-optimizer: the AdamW moment " + (fromState ? "@" + state : std::string("operand")) +
                                            " is read or assigned elsewhere (train.on_divergence = \"skip\" gates it); "
                                            "optimizer-state sharding needs the fused update's moments in place");
          }
        op->attrs.set("shard", true);
        changed = true;
      }
    }
    if (!changed) return makeError({}, "shard-optimizer: no AdamW update to shard (optimizer.kind must be adamw)");
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> createShardOptimizer() { return std::make_unique<ShardOptimizer>(); }

}  // namespace kiln
