// Dead code elimination.
//
// Algorithm: one reverse walk. A value is live when a function output or an operand of a live
// op; an op is live when it has side effects (not kPure: state_assign) or any result is live.
// Dead ops are erased. Invariant: the surviving ops keep their relative order, so the function
// stays topologically ordered. Parameters are never removed (they are the function's signature).
#include <unordered_set>

#include "compiler/pass.h"

namespace kiln {
namespace {

class DeadCodeElimination : public Pass {
 public:
  std::string name() const override { return "dce"; }
  std::string description() const override { return "remove ops whose results are unused"; }

  Expected<bool> run(Module& m) override {
    size_t removed = 0;
    for (auto& f : m.functions) removed += runOn(*f);
    return removed > 0;
  }

 private:
  static size_t runOn(Function& f) {
    std::unordered_set<const Value*> live(f.outputs.begin(), f.outputs.end());
    std::unordered_set<const Op*> liveOps;
    for (auto it = f.ops.rbegin(); it != f.ops.rend(); ++it) {
      const Op& op = **it;
      bool isLive = !hasTrait(op.kind, kPure);
      for (const auto& r : op.results) isLive = isLive || live.count(r.get());
      if (!isLive) continue;
      liveOps.insert(&op);
      live.insert(op.operands.begin(), op.operands.end());
    }
    return f.eraseOpsIf([&](const Op& op) { return !liveOps.count(&op); });
  }
};

}  // namespace

std::unique_ptr<Pass> createDeadCodeElimination() { return std::make_unique<DeadCodeElimination>(); }

}  // namespace kiln
