#include "runtime/reference/interpreter.h"

#include <cmath>
#include <unordered_map>

#include "ir/verifier.h"
#include "runtime/reference/kernels.h"
#include "runtime/reference/random.h"

namespace kiln::ref {

Tensor initialValue(const StateVar& s) {
  Tensor t(s.type);
  const Initializer& in = s.init;
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

namespace {

double seedOf(const Tensor& t) { return t[0]; }

// Runs the kernel of `op`. Returns an error message, empty on success.
std::string evalKernel(const Op& op, const std::vector<const Tensor*>& in, const StateStore* state,
                       std::vector<Tensor>& outs) {
  const Attrs& a = op.attrs;
  Tensor* out = outs.empty() ? nullptr : &outs[0];
  auto x = [&](size_t i) -> const Tensor& { return *in[i]; };
  switch (op.kind) {
    case OpKind::Constant: {
      std::vector<double> v = a.getNumbers("value");
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = v.size() == 1 ? v[0] : v[size_t(i)];
      return {};
    }
    case OpKind::Iota: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += out->type.rank();
      IndexWalker w(out->type.shape, {});
      for (int64_t i = 0; i < out->size(); ++i, w.next()) (*out)[i] = double(w.index()[size_t(axis)]);
      return {};
    }
    case OpKind::RandomUniform: {
      double lo = a.getFloat("low"), hi = a.getFloat("high");
      uint64_t seed = uint64_t(int64_t(seedOf(x(0))));
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = lo + (hi - lo) * counterUniform(seed, uint64_t(i));
      return {};
    }
    case OpKind::RandomNormal: {
      double mean = a.getFloat("mean"), sd = a.getFloat("std");
      uint64_t seed = uint64_t(int64_t(seedOf(x(0))));
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = mean + sd * counterNormal(seed, uint64_t(i));
      return {};
    }
    case OpKind::Neg: unaryMap(x(0), *out, [](double v) { return -v; }); return {};
    case OpKind::Abs: unaryMap(x(0), *out, [](double v) { return std::fabs(v); }); return {};
    case OpKind::Exp: unaryMap(x(0), *out, [](double v) { return std::exp(v); }); return {};
    case OpKind::Log: unaryMap(x(0), *out, [](double v) { return std::log(v); }); return {};
    case OpKind::Sqrt: unaryMap(x(0), *out, [](double v) { return std::sqrt(v); }); return {};
    case OpKind::Rsqrt: unaryMap(x(0), *out, [](double v) { return 1.0 / std::sqrt(v); }); return {};
    case OpKind::Tanh: unaryMap(x(0), *out, [](double v) { return std::tanh(v); }); return {};
    case OpKind::Sin: unaryMap(x(0), *out, [](double v) { return std::sin(v); }); return {};
    case OpKind::Cos: unaryMap(x(0), *out, [](double v) { return std::cos(v); }); return {};
    case OpKind::Sigmoid: unaryMap(x(0), *out, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }); return {};
    case OpKind::Relu: unaryMap(x(0), *out, [](double v) { return v > 0 ? v : 0.0; }); return {};
    case OpKind::Gelu:
      if (a.getStr("approx") == "tanh") unaryMap(x(0), *out, geluTanh);
      else unaryMap(x(0), *out, geluErf);
      return {};
    case OpKind::Cast: unaryMap(x(0), *out, [](double v) { return v; }); return {};
    case OpKind::Add: binaryMap(x(0), x(1), *out, [](double p, double q) { return p + q; }); return {};
    case OpKind::Sub: binaryMap(x(0), x(1), *out, [](double p, double q) { return p - q; }); return {};
    case OpKind::Mul: binaryMap(x(0), x(1), *out, [](double p, double q) { return p * q; }); return {};
    case OpKind::Div: return divide(x(0), x(1), *out);
    case OpKind::Max:
      binaryMap(x(0), x(1), *out, [](double p, double q) { return (p > q || std::isnan(p)) ? p : q; });
      return {};
    case OpKind::Min:
      binaryMap(x(0), x(1), *out, [](double p, double q) { return (p < q || std::isnan(p)) ? p : q; });
      return {};
    case OpKind::Pow: binaryMap(x(0), x(1), *out, [](double p, double q) { return std::pow(p, q); }); return {};
    case OpKind::Eq: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p == q); }); return {};
    case OpKind::Ne: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p != q); }); return {};
    case OpKind::Lt: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p < q); }); return {};
    case OpKind::Le: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p <= q); }); return {};
    case OpKind::Gt: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p > q); }); return {};
    case OpKind::Ge: binaryMap(x(0), x(1), *out, [](double p, double q) { return double(p >= q); }); return {};
    case OpKind::Select: select(x(0), x(1), x(2), *out); return {};
    case OpKind::ReduceSum: reduce(x(0), a.getInts("axes"), ReduceKind::Sum, *out); return {};
    case OpKind::ReduceMax: reduce(x(0), a.getInts("axes"), ReduceKind::Max, *out); return {};
    case OpKind::ReduceMean: reduce(x(0), a.getInts("axes"), ReduceKind::Mean, *out); return {};
    case OpKind::Reshape: out->data = x(0).data; return {};
    case OpKind::Transpose: transpose(x(0), a.getInts("perm"), *out); return {};
    case OpKind::BroadcastTo: broadcastTo(x(0), *out); return {};
    case OpKind::Slice: slice(x(0), a.getInts("start"), a.getInts("stride"), *out); return {};
    case OpKind::Concat: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += out->type.rank();
      concat(in, axis, *out);
      return {};
    }
    case OpKind::Pad: pad(x(0), a.getInts("low"), a.getInts("interior"), a.getFloat("value"), *out); return {};
    case OpKind::Gather:
    case OpKind::ScatterAdd: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += x(0).type.rank();
      if (op.kind == OpKind::Gather) return gather(x(0), x(1), axis, *out);
      return scatterAdd(x(0), x(1), x(2), axis, *out);
    }
    case OpKind::Matmul:
      matmul(x(0), x(1), a.getBool("transpose_a"), a.getBool("transpose_b"), *out);
      return {};
    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += x(0).type.rank();
      softmax(x(0), axis, op.kind == OpKind::LogSoftmax, *out);
      return {};
    }
    case OpKind::LayerNorm: layerNorm(x(0), x(1), x(2), a.getFloat("eps"), *out); return {};
    case OpKind::CrossEntropy:
      return crossEntropy(x(0), x(1), a.getInt("ignore_index"), a.getStr("reduction"), *out);
    case OpKind::Attention:
      attention(x(0), x(1), x(2), in.size() > 3 ? in[3] : nullptr, a.getBool("causal"), a.getFloat("scale"),
                *out);
      return {};
    case OpKind::Dropout: dropout(x(0), uint64_t(int64_t(seedOf(x(1)))), a.getFloat("rate"), *out); return {};
    case OpKind::GeluGrad: geluGrad(x(0), x(1), a.getStr("approx") == "tanh", *out); return {};
    case OpKind::SoftmaxGrad:
    case OpKind::LogSoftmaxGrad: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += x(0).type.rank();
      softmaxGrad(x(0), x(1), axis, op.kind == OpKind::LogSoftmaxGrad, *out);
      return {};
    }
    case OpKind::LayerNormGrad: layerNormGrad(x(0), x(1), x(2), a.getFloat("eps"), outs[0], outs[1], outs[2]); return {};
    case OpKind::CrossEntropyGrad:
      crossEntropyGrad(x(0), x(1), x(2), a.getInt("ignore_index"), a.getStr("reduction"), *out);
      return {};
    case OpKind::AttentionGrad:
      attentionGrad(x(0), x(1), x(2), x(3), in.size() > 4 ? in[4] : nullptr, a.getBool("causal"),
                    a.getFloat("scale"), outs[0], outs[1], outs[2]);
      return {};
    case OpKind::StateRead: {
      auto it = state ? state->find(op.stateRef) : StateStore::const_iterator{};
      if (!state || it == state->end()) return "state @" + op.stateRef + " has no value";
      if (it->second.type != out->type)
        return "state @" + op.stateRef + " holds " + it->second.type.str() + ", expected " + out->type.str();
      out->data = it->second.data;
      return {};
    }
    case OpKind::StateAssign: return {};
  }
  return "op kind without a reference kernel";
}

}  // namespace

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
  std::string err = evalKernel(op, operands, state, outs);
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
