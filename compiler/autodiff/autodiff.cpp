// Reverse-mode autodiff, ahead of time.
//
// Algorithm:
//  1. Activity: a forward walk marks values that depend on a differentiated source (a read of a
//     trainable state, a requested input); only floating point values are active.
//  2. Reverse sweep: seed d loss = 1, then walk the ops that existed before the pass from last
//     to first; an op with a gradient on some result emits its VJP rule (vjp_rules.cpp), which
//     accumulates into its active operands. Ops whose results never reach the loss get no
//     gradient, so their branches produce no ops. Fan-out accumulates with `add`.
//  3. The gradients of state reads and requested inputs become new outputs.
// Invariants: gradient ops are appended after the forward ops (so the function stays
// topologically ordered); each carries its forward op's name + ".grad" and its location.
#include "compiler/autodiff/autodiff.h"

#include <algorithm>
#include <set>

#include "compiler/autodiff/gradient_builder.h"
#include "compiler/pass.h"
#include "ir/shape_inference.h"

namespace kiln {

std::string stateGradName(const std::string& state) { return "grad." + state; }
std::string inputGradName(const std::string& param) { return "grad_input." + param; }

void GradientBuilder::accumulate(Value* v, Value* g) {
  if (!wants(v)) return;
  g = reduceTo(g, v->type.shape);
  auto it = adjoints_.find(v);
  if (it == adjoints_.end()) adjoints_[v] = g;
  else it->second = b.add(it->second, g);
}

Value* GradientBuilder::reduceTo(Value* g, const Shape& shape) {
  const Shape& gs = g->type.shape;
  if (gs == shape) return g;
  size_t lead = gs.size() - shape.size();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < gs.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) axes.push_back(int64_t(i));
  Value* r = b.reduceSum(g, axes, false);
  return r->type.shape == shape ? r : b.reshape(r, shape);
}

Status differentiate(Module& m, Function& f, const AutodiffOptions& options) {
  Location at = f.textLoc.known() ? f.textLoc : f.loc;
  Value* loss = nullptr;
  for (size_t i = 0; i < f.outputs.size(); ++i)
    if (f.outputNames[i] == options.lossOutput) loss = f.outputs[i];
  if (!loss) return makeError(at, "@" + f.name + " has no output named '" + options.lossOutput + "' to differentiate");
  if (loss->type.rank() != 0 || !isFloat(loss->type.dtype))
    return makeError(at, "the loss of @" + f.name + " must be a floating point scalar, got " + loss->type.str());
  for (const auto& name : f.outputNames)
    if (name.rfind("grad.", 0) == 0 || name.rfind("grad_input.", 0) == 0)
      return makeError(at, "@" + f.name + " already has gradient outputs ('" + name + "')");

  GradientBuilder gb(m, f);
  std::vector<Value*> wrtParams;
  for (const auto& want : options.wrtInputs) {
    Value* found = nullptr;
    for (const auto& p : f.params)
      if (p->name == want) found = p.get();
    if (!found) return makeError(at, "@" + f.name + " has no input %" + want + " to differentiate with respect to");
    if (!isFloat(found->type.dtype))
      return makeError(at, "cannot differentiate with respect to %" + want + " of type " + found->type.str());
    gb.markActive(found);
    wrtParams.push_back(found);
  }
  // 1. Activity.
  std::vector<Op*> forward;
  for (auto& op : f.ops) forward.push_back(op.get());
  for (Op* op : forward) {
    bool active = false;
    if (op->kind == OpKind::StateRead) {
      const StateVar* s = m.findState(op->stateRef);
      active = s && s->trainable;
    }
    for (const Value* v : op->operands) active = active || gb.wants(v);
    if (active)
      for (const auto& r : op->results)
        if (isFloat(r->type.dtype)) gb.markActive(r.get());
  }
  if (!gb.wants(loss)) return makeError(at, "the loss of @" + f.name + " does not depend on any trainable state or requested input");

  // 2. Reverse sweep.
  gb.b.setName(loss->def ? loss->def->name + (loss->def->name.empty() ? "grad" : ".grad") : "grad");
  gb.accumulate(loss, gb.scalarLike(1.0, loss));
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    const Op& op = **it;
    bool hasGradient = false;
    for (const auto& r : op.results) hasGradient = hasGradient || gb.gradientOf(r.get());
    if (!hasGradient) continue;
    gb.b.setName(op.name.empty() ? "grad" : op.name + ".grad");
    gb.b.setLocation(op.loc);
    if (auto s = emitVjp(gb, op); !s) return s;
  }

  // 3. Outputs: one per trainable state (reads of the same state add up) and requested input.
  std::vector<std::pair<std::string, Value*>> stateGrads;
  for (Op* op : forward) {
    if (op->kind != OpKind::StateRead) continue;
    Value* g = gb.gradientOf(op->result());
    if (!g) continue;
    auto existing = std::find_if(stateGrads.begin(), stateGrads.end(),
                                 [&](const auto& e) { return e.first == op->stateRef; });
    if (existing == stateGrads.end()) stateGrads.emplace_back(op->stateRef, g);
    else existing->second = gb.b.add(existing->second, g);
  }
  for (auto& [name, g] : stateGrads) f.addOutput(stateGradName(name), g);
  for (Value* p : wrtParams) {
    Value* g = gb.gradientOf(p);
    f.addOutput(inputGradName(p->name), g ? g : gb.zerosLike(p));
  }
  return okStatus();
}

namespace {

// Differentiates every function that has a `loss` output and no gradients yet.
class AutodiffPass : public Pass {
 public:
  explicit AutodiffPass(AutodiffOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "autodiff"; }
  std::string description() const override { return "append the gradient of the loss w.r.t. trainable state"; }

  Expected<bool> run(Module& m) override {
    bool changed = false, anyLoss = false;
    std::string outputs;  // every function's outputs, for the error
    for (auto& f : m.functions) {
      for (const auto& n : f->outputNames) outputs += (outputs.empty() ? "" : ", ") + ("@" + f->name + "." + n);
      bool hasLoss = std::find(f->outputNames.begin(), f->outputNames.end(), options_.lossOutput) != f->outputNames.end();
      anyLoss = anyLoss || hasLoss;
      bool done = std::any_of(f->outputNames.begin(), f->outputNames.end(),
                              [](const std::string& n) { return n.rfind("grad.", 0) == 0 || n.rfind("grad_input.", 0) == 0; });
      if (!hasLoss || done) continue;
      if (auto s = differentiate(m, *f, options_); !s) return s.error();
      changed = true;
    }
    if (!anyLoss)
      return makeError({}, "autodiff: no function has an output named '" + options_.lossOutput + "' to differentiate (outputs: " +
                               (outputs.empty() ? "none" : outputs) + "); name it with autodiff{loss=NAME}");
    return changed;
  }

 private:
  AutodiffOptions options_;
};

}  // namespace

Expected<std::unique_ptr<Pass>> createAutodiffPass(const PassOptions& options) {
  AutodiffOptions o;
  for (const auto& [key, value] : options) {
    if (key == "loss") {
      o.lossOutput = value;
    } else if (key == "wrt") {
      for (const auto& n : splitOptionList(value)) o.wrtInputs.push_back(n[0] == '%' ? n.substr(1) : n);
    } else {
      return makeError({}, "pass 'autodiff' has no option '" + key + "' (options: loss, wrt)");
    }
  }
  return std::unique_ptr<Pass>(std::make_unique<AutodiffPass>(std::move(o)));
}

}  // namespace kiln
