// Sums of zero pads that tile a tensor become one concat.
//
// The gradient of slicing a tensor into pieces (q, k, v out of one projection) is a sum of
// zero-padded piece gradients: three full-size pads and two adds, five passes over the result.
// When the pads differ along one axis only and their pieces tile that axis exactly, the sum is
// the concatenation of the pieces: one pass.
//
// Algorithm: for each add, collect the leaves of the add tree below it (inner adds only when
// they have no other use). If every leaf is a pad with value 0, no interior padding and no
// negative padding, all padded along the same single axis, and the pieces sorted by their low
// padding cover [0, size) without gaps or overlap, a concat of the pieces replaces the add.
// Invariant: the concat is inserted at the add's position, after all its operands, and the
// add is erased; the pads and inner adds become dead (dce removes them).
#include <algorithm>
#include <unordered_map>

#include "compiler/pass.h"

namespace kiln {
namespace {

class PadsToConcat : public FunctionPass {
 public:
  std::string name() const override { return "pads-to-concat"; }
  std::string description() const override { return "turn sums of zero pads that tile a tensor into a concat"; }


 private:
  bool runOn(Function& f) override {
    std::unordered_map<const Value*, int> uses = countUses(f);
    std::unordered_map<const Op*, bool> replaced;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* add = f.ops[i].get();
      if (add->kind != OpKind::Add) continue;
      std::vector<const Op*> leaves;
      if (!collect(add, uses, true, leaves) || leaves.size() < 2) continue;
      auto pieces = tiling(leaves, add->result()->type.shape);
      if (pieces.empty()) continue;
      Attrs attrs;
      attrs.set("axis", int64_t(pieces.front().first));
      std::vector<Value*> operands;
      for (const auto& [axis, v] : pieces) operands.push_back(v);
      Op* concat = f.insertOp(i, OpKind::Concat, operands, {add->result()->type}, attrs);
      concat->name = add->name;
      concat->loc = add->loc;
      concat->result()->name = add->result()->name;
      f.replaceAllUses(add->result(), concat->result());
      uses[concat->result()] = uses[add->result()];
      replaced[add] = true;
      ++i;
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });  // now unused; names stay unique
    return !replaced.empty();
  }

  // Leaves of the add tree rooted at `op`: inner adds must have a single use.
  static bool collect(const Op* op, std::unordered_map<const Value*, int>& uses, bool root, std::vector<const Op*>& leaves) {
    if (op->kind == OpKind::Add && (root || uses[op->result()] == 1)) {
      for (const Value* v : op->operands) {
        if (!v->def || v->type != op->result()->type) return false;
        if (!collect(v->def, uses, false, leaves)) return false;
      }
      return true;
    }
    if (op->kind != OpKind::Pad || uses[op->result()] != 1) return false;
    leaves.push_back(op);
    return true;
  }

  // (axis, piece) in order along the axis, or empty when the pads do not tile the shape.
  static std::vector<std::pair<int, Value*>> tiling(const std::vector<const Op*>& pads, const Shape& shape) {
    int axis = -1;
    std::vector<std::pair<int64_t, Value*>> byLow;
    for (const Op* p : pads) {
      if (p->attrs.getFloat("value") != 0.0) return {};
      const auto& interior = p->attrs.getInts("interior");
      if (std::any_of(interior.begin(), interior.end(), [](int64_t x) { return x != 0; })) return {};
      const auto &low = p->attrs.getInts("low"), &high = p->attrs.getInts("high");
      int padded = -1;
      for (size_t d = 0; d < low.size(); ++d) {
        if (low[d] < 0 || high[d] < 0) return {};
        if (low[d] == 0 && high[d] == 0) continue;
        if (padded >= 0) return {};  // padded along two axes
        padded = int(d);
      }
      if (padded < 0 || (axis >= 0 && padded != axis)) return {};
      axis = padded;
      byLow.emplace_back(low[size_t(axis)], p->operands[0]);
    }
    std::sort(byLow.begin(), byLow.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    int64_t at = 0;
    std::vector<std::pair<int, Value*>> out;
    for (const auto& [low, v] : byLow) {
      if (low != at) return {};  // a gap or an overlap
      at += v->type.shape[size_t(axis)];
      out.emplace_back(axis, v);
    }
    if (at != shape[size_t(axis)]) return {};
    return out;
  }
};

}  // namespace

std::unique_ptr<Pass> createPadsToConcat() { return std::make_unique<PadsToConcat>(); }

}  // namespace kiln
