// Common subexpression elimination.
//
// Algorithm: one forward walk per function with a table keyed by (kind, state reference,
// operands, attributes, result types). A pure op whose key is already in the table is redundant:
// its results are mapped to the earlier op's results and it is erased; later operands and the
// outputs are rewritten through that map as the walk reaches them. Sound because pure ops are
// deterministic functions of their operands and attributes (dropout and random ops included:
// their randomness comes from a seed operand), and state_read sees the state at function entry.
// The kept op keeps its own name and location.
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"

namespace kiln {
namespace {

class CommonSubexpressionElimination : public FunctionPass {
 public:
  std::string name() const override { return "cse"; }
  std::string description() const override { return "merge identical pure ops"; }


 private:
  static std::string keyOf(const Op& op) {
    std::string key(mnemonic(op.kind));
    key += "|" + op.stateRef + "|";
    for (const Value* v : op.operands) key += std::to_string(reinterpret_cast<uintptr_t>(v)) + ",";
    key += "|";
    for (const auto& [name, value] : op.attrs.entries()) key += name + "=" + formatAttr(value) + ";";
    key += "|";
    for (const auto& r : op.results) key += r->type.str() + ",";
    return key;
  }

  bool runOn(Function& f) override {
    std::unordered_map<Value*, Value*> replaced;
    std::unordered_map<std::string, Op*> seen;
    std::unordered_set<const Op*> erased;
    auto resolve = [&](Value* v) {
      auto it = replaced.find(v);
      return it == replaced.end() ? v : it->second;
    };
    for (auto& opPtr : f.ops) {
      Op& op = *opPtr;
      for (Value*& v : op.operands) v = resolve(v);
      if (!hasTrait(op.kind, kPure)) continue;
      auto [it, inserted] = seen.emplace(keyOf(op), &op);
      if (inserted) continue;
      for (size_t i = 0; i < op.results.size(); ++i) replaced[op.result(int(i))] = it->second->result(int(i));
      erased.insert(&op);
    }
    for (Value*& v : f.outputs) v = resolve(v);
    f.eraseOpsIf([&](const Op& op) { return erased.count(&op) != 0; });
    return !erased.empty();
  }
};

}  // namespace

std::unique_ptr<Pass> createCommonSubexpressionElimination() {
  return std::make_unique<CommonSubexpressionElimination>();
}

}  // namespace kiln
