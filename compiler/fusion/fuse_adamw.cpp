// The AdamW updates of all parameters become one adamw_group op: one kernel over every
// parameter's elements instead of an op (and a parallel region) per parameter, and the
// gradient-clipping multiply folded in (the group scales each gradient as it reads it, instead
// of a separate pass writing a scaled copy of every gradient).
//
// Algorithm: adamw_update ops that share lr, t, their attributes and their gradient scale form
// one group. A gradient operand made by `mul(g, s)` (or a fused op "mul($0, $1)") with a scalar
// s and no other use contributes g, with s as the group's scale (1.0 otherwise). The group op is
// inserted after the group's last member, every use of a member's results is rewired to the
// group's, and ops that used them before that point (the state_assigns right after each member)
// move after it, keeping their order. Members are erased; the multiplies become dead (dce).
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"

namespace kiln {
namespace {

class FuseAdamW : public FunctionPass {
 public:
  std::string name() const override { return "fuse-adamw"; }
  std::string description() const override { return "group every parameter's adamw_update (and its gradient scaling) into one op"; }


 private:
  struct Member {
    Op* update;
    Value* gradient;
  };

  bool runOn(Function& f) override {
    std::unordered_map<const Value*, int> uses = countUses(f);
    using Key = std::tuple<Value*, Value*, Value*, double, double, double>;  // lr, t, scale, betas, eps
    std::map<Key, std::vector<Member>> groups;
    std::vector<Key> order;
    for (const auto& op : f.ops) {
      if (op->kind != OpKind::AdamWUpdate) continue;
      auto [gradient, scale] = unscaled(op->operands[1], uses);
      Key key{op->operands[4], op->operands[6], scale, op->attrs.getFloat("beta1"), op->attrs.getFloat("beta2"),
              op->attrs.getFloat("eps")};
      if (!groups.count(key)) order.push_back(key);
      groups[key].push_back({op.get(), gradient});
    }
    if (groups.empty()) return false;
    std::unordered_set<const Op*> erased;
    Value* one = nullptr;
    for (const Key& key : order) {
      const std::vector<Member>& members = groups[key];
      Value* scale = std::get<2>(key);
      if (!scale) {
        if (!one) one = makeOne(f, members.front().update);
        scale = one;
      }
      std::vector<Value*> operands = {std::get<0>(key), std::get<1>(key), scale};
      std::vector<TensorType> types;
      for (const Member& mb : members) {
        const auto& o = mb.update->operands;
        operands.insert(operands.end(), {o[0], mb.gradient, o[2], o[3], o[5]});
        types.insert(types.end(), 3, o[0]->type);
      }
      const Op* last = members.back().update;
      size_t at = 0;
      while (f.ops[at].get() != last) ++at;
      Op* group = f.insertOp(at + 1, OpKind::AdamWGroup, operands, types, last->attrs);
      group->name = "optimizer";
      group->loc = last->loc;
      for (size_t j = 0; j < members.size(); ++j) {
        for (int k = 0; k < 3; ++k) {
          group->result(int(3 * j) + k)->name = members[j].update->result(k)->name;
          f.replaceAllUses(members[j].update->result(k), group->result(int(3 * j) + k));
        }
        erased.insert(members[j].update);
      }
    }
    f.eraseOpsIf([&](const Op& op) { return erased.count(&op) != 0; });
    deferUntilDefined(f);
    return true;
  }

  // (g, s) when `v` is g * s with a scalar s and nothing else uses v; else (v, null).
  static std::pair<Value*, Value*> unscaled(Value* v, std::unordered_map<const Value*, int>& uses) {
    const Op* d = v->def;
    if (!d || uses[v] != 1 || d->operands.size() != 2) return {v, nullptr};
    bool mul = d->kind == OpKind::Mul || (d->kind == OpKind::Fused && d->attrs.getStr("expr") == "mul($0, $1)");
    if (!mul) return {v, nullptr};
    Value* a = d->operands[0];
    Value* b = d->operands[1];
    if (a->type == v->type && b->type.shape.empty() && b->type.dtype == v->type.dtype) return {a, b};
    if (b->type == v->type && a->type.shape.empty() && a->type.dtype == v->type.dtype) return {b, a};
    return {v, nullptr};
  }

  static Value* makeOne(Function& f, const Op* near) {
    Attrs a;
    a.set("value", std::vector<double>{1.0});
    size_t at = 0;
    while (f.ops[at].get() != near) ++at;
    Op* c = f.insertOp(at, OpKind::Constant, {}, {TensorType{near->operands[0]->type.dtype, {}}}, a);
    c->name = "optimizer";
    c->loc = near->loc;
    return c->result();
  }

  // Moves each op that uses a value defined later (here: the state_assigns of the members) to
  // just after the op defining its last operand; the others keep their order.
  static void deferUntilDefined(Function& f) {
    std::unordered_set<const Value*> defined(f.params.size());
    for (const auto& p : f.params) defined.insert(p.get());
    std::vector<std::unique_ptr<Op>> ordered, waiting;
    auto ready = [&](const Op& op) {
      for (const Value* v : op.operands)
        if (!defined.count(v)) return false;
      return true;
    };
    auto emit = [&](std::unique_ptr<Op> op) {
      for (const auto& r : op->results) defined.insert(r.get());
      ordered.push_back(std::move(op));
    };
    for (auto& op : f.ops) {
      if (!ready(*op)) {
        waiting.push_back(std::move(op));
        continue;
      }
      emit(std::move(op));
      for (size_t i = 0; i < waiting.size();)
        if (ready(*waiting[i])) {
          emit(std::move(waiting[i]));
          waiting.erase(waiting.begin() + std::ptrdiff_t(i));
        } else {
          ++i;
        }
    }
    for (auto& op : waiting) ordered.push_back(std::move(op));  // cannot happen: the verifier reports it
    f.ops = std::move(ordered);
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseAdamW() { return std::make_unique<FuseAdamW>(); }

}  // namespace kiln
