#include "eval/interpreter.h"

#include <cmath>
#include <unordered_map>

#include "ir/verifier.h"
#include "eval/kernels/dispatch.h"
#include "eval/random.h"

namespace kiln::ref {

Tensor initialValue(const StateVar& s) {
  Tensor t(s.type);
  const Initializer& in = s.init;
  // Counter-based: element i depends on (seed, i) only, so threads change nothing but the time.
#pragma omp parallel for if (t.size() >= 65536)
  for (int64_t i = 0; i < t.size(); ++i) {
    switch (in.kind) {
      case InitKind::Zeros: t[i] = 0; break;
      case InitKind::Ones: t[i] = 1; break;
      case InitKind::Full: t[i] = in.a; break;
      case InitKind::Normal: t[i] = in.a + in.b * counterNormal(uint64_t(in.seed), uint64_t(i)); break;
      case InitKind::Uniform:
        t[i] = in.a + (in.b - in.a) * counterUniform(uint64_t(in.seed), uint64_t(i));
        break;
    }
  }
  t.roundToType();
  return t;
}

Expected<StateStore> initialState(const Module& m) {
  StateStore st;
  for (const StateVar& s : m.states) {
    if (s.type.numElements() > kMaxReferenceElements)
      return makeError(s.textLoc.known() ? s.textLoc : s.loc,
                       "state @" + s.name + " (" + s.type.str() + ") is too large for the reference device");
    st[s.name] = initialValue(s);
  }
  return st;
}


Expected<std::vector<Tensor>> evalOp(const Op& op, const std::vector<const Tensor*>& operands,
                                     const StateStore* state) {
  std::vector<Tensor> outs;
  for (const auto& r : op.results) {
    if (r->type.numElements() > kMaxReferenceElements)
      return makeError(op.textLoc.known() ? op.textLoc : op.loc,
                       std::string(mnemonic(op.kind)) + " result " + r->type.str() +
                           " is too large for the reference device");
    outs.emplace_back(r->type);
  }
  std::vector<kernels::View<const double>> in;
  for (const Tensor* t : operands) in.push_back(t->view());
  if (op.kind == OpKind::StateRead) {
    auto it = state ? state->find(op.stateRef) : StateStore::const_iterator{};
    if (!state || it == state->end())
      return makeError(op.textLoc.known() ? op.textLoc : op.loc, "state_read: state @" + op.stateRef + " has no value");
    in.push_back(it->second.view());
  }
  std::vector<kernels::View<double>> out;
  for (Tensor& t : outs) out.push_back(t.view());
  std::string err = kernels::runKernel<double>(op, in, out);
  if (!err.empty()) return makeError(op.textLoc.known() ? op.textLoc : op.loc, std::string(mnemonic(op.kind)) + ": " + err);
  for (Tensor& t : outs) t.roundToType();
  return outs;
}

Expected<std::vector<Tensor>> run(const Module& m, const Function& f, const std::vector<Tensor>& inputs,
                                  StateStore& state) {
  if (inputs.size() != f.params.size())
    return makeError(f.textLoc, "@" + f.name + " takes " + std::to_string(f.params.size()) + " input(s), got " +
                                    std::to_string(inputs.size()));
  std::unordered_map<const Value*, Tensor> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].type != f.params[i]->type)
      return makeError(f.textLoc, "input %" + f.params[i]->name + " must be " + f.params[i]->type.str() +
                                      ", got " + inputs[i].type.str());
    values[f.params[i].get()] = inputs[i];
  }
  std::vector<std::pair<std::string, Tensor>> assigns;
  for (const auto& op : f.ops) {
    std::vector<const Tensor*> operands;
    for (const Value* v : op->operands) operands.push_back(&values.at(v));
    auto outs = evalOp(*op, operands, &state);
    if (!outs) return outs.error();
    if (op->kind == OpKind::StateAssign) {
      const StateVar* s = m.findState(op->stateRef);
      if (!s) return makeError(diagLoc(*op, f), "state_assign to undefined state @" + op->stateRef);
      assigns.emplace_back(op->stateRef, *operands[0]);
    }
    for (size_t i = 0; i < op->results.size(); ++i) values[op->result(int(i))] = std::move((*outs)[i]);
  }
  std::vector<Tensor> results;
  for (const Value* v : f.outputs) results.push_back(values.at(v));
  for (auto& [name, t] : assigns) state[name] = std::move(t);
  return results;
}

}  // namespace kiln::ref
