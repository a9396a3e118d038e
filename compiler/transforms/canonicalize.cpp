// Canonicalization: constant folding and algebraic identities.
//
// Algorithm: forward walks over each function until nothing changes (at most kMaxRounds).
// Each op is first rewritten through the map of values replaced so far, then
//  - folded: a pure op whose operands are all constants and whose result has at most
//    kMaxFoldElements elements is evaluated on the reference device and becomes a constant
//    (in place: the result value, name and location stay; if evaluation fails, e.g. an index
//    out of range, the op is left for run time to report);
//  - simplified: identities that return an existing value of the same type (x+0, 0+x, x-0,
//    x*1, 1*x, x/1, x^1, neg(neg x), select(c,x,x), no-op reshape/broadcast/cast/transpose/
//    slice/pad/concat/reduction) map the result to that value and erase the op;
//  - combined: reshape(reshape x) and transpose(transpose x) become one op.
// x*0 is deliberately not folded: it is not 0 for inf or nan.
// Invariant: every rewrite keeps result types, so uses stay valid; ops are never reordered.
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"
#include "eval/interpreter.h"

namespace kiln {
namespace {

constexpr int kMaxRounds = 8;
constexpr int64_t kMaxFoldElements = 4096;

bool isConstant(const Value* v) { return v->def && v->def->kind == OpKind::Constant; }

// Whether v is a constant whose every element equals `x`.
bool isSplat(const Value* v, double x) {
  if (!isConstant(v)) return false;
  for (double d : v->def->attrs.getNumbers("value"))
    if (d != x) return false;
  return true;
}

bool isIdentityPerm(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int64_t(i)) return false;
  return true;
}

class Canonicalize : public Pass {
 public:
  std::string name() const override { return "canonicalize"; }
  std::string description() const override { return "fold constants and simplify algebraic identities"; }

  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions)
      for (int round = 0; round < kMaxRounds && runOn(*f); ++round) changed = true;
    return changed;
  }

 private:
  static bool runOn(Function& f) {
    std::unordered_map<Value*, Value*> replaced;
    std::unordered_set<const Op*> erased;
    bool changed = false;
    auto resolve = [&](Value* v) {
      auto it = replaced.find(v);
      return it == replaced.end() ? v : it->second;
    };
    for (auto& opPtr : f.ops) {
      Op& op = *opPtr;
      for (Value*& v : op.operands) v = resolve(v);
      if (fold(op)) {
        changed = true;
        continue;
      }
      if (Value* same = simplify(op)) {
        replaced[op.result()] = same;
        erased.insert(&op);
        changed = true;
        continue;
      }
      changed |= combine(op);
    }
    for (Value*& v : f.outputs) v = resolve(v);
    f.eraseOpsIf([&](const Op& op) { return erased.count(&op) != 0; });
    return changed;
  }

  static bool fold(Op& op) {
    if (!hasTrait(op.kind, kPure) || op.kind == OpKind::Constant || op.operands.empty() || op.results.size() != 1)
      return false;
    for (const Value* v : op.operands)
      if (!isConstant(v)) return false;
    if (op.result()->type.numElements() > kMaxFoldElements) return false;
    std::vector<ref::Tensor> inputs;
    for (const Value* v : op.operands) {
      auto t = ref::evalOp(*v->def, {}, nullptr);
      if (!t) return false;
      inputs.push_back(std::move((*t)[0]));
    }
    std::vector<const ref::Tensor*> ptrs;
    for (const auto& t : inputs) ptrs.push_back(&t);
    auto out = ref::evalOp(op, ptrs, nullptr);
    if (!out) return false;
    const ref::Tensor& r = (*out)[0];
    bool splat = r.size() > 0;
    for (double d : r.data) splat = splat && (d == r.data[0] || (std::isnan(d) && std::isnan(r.data[0])));
    std::vector<double> values = splat ? std::vector<double>{r.data[0]} : r.data;
    if (r.size() == 0) values = {0.0};
    Attrs attrs;
    if (isFloat(r.type.dtype)) {
      attrs.set("value", values);
    } else {
      std::vector<int64_t> ints(values.begin(), values.end());
      attrs.set("value", ints);
    }
    op.kind = OpKind::Constant;
    op.operands.clear();
    op.attrs = std::move(attrs);
    return true;
  }

  // Returns an existing value equal to op's result, or null.
  static Value* simplify(const Op& op) {
    if (op.results.size() != 1) return nullptr;
    const TensorType& rt = op.result()->type;
    auto sameType = [&](Value* v) { return v->type == rt ? v : nullptr; };
    const auto& in = op.operands;
    switch (op.kind) {
      case OpKind::Add:
        if (isSplat(in[1], 0)) return sameType(in[0]);
        if (isSplat(in[0], 0)) return sameType(in[1]);
        return nullptr;
      case OpKind::Sub: return isSplat(in[1], 0) ? sameType(in[0]) : nullptr;
      case OpKind::Mul:
        if (isSplat(in[1], 1)) return sameType(in[0]);
        if (isSplat(in[0], 1)) return sameType(in[1]);
        return nullptr;
      case OpKind::Div:
      case OpKind::Pow: return isSplat(in[1], 1) ? sameType(in[0]) : nullptr;
      case OpKind::Neg:
        return in[0]->def && in[0]->def->kind == OpKind::Neg ? sameType(in[0]->def->operands[0]) : nullptr;
      case OpKind::Select: return in[1] == in[2] ? sameType(in[1]) : nullptr;
      case OpKind::Reshape:
      case OpKind::BroadcastTo:
      case OpKind::Cast:
      case OpKind::Slice:
      case OpKind::Pad:
      case OpKind::Concat:
        return in.size() == 1 ? sameType(in[0]) : nullptr;
      case OpKind::Transpose: return isIdentityPerm(op.attrs.getInts("perm")) ? sameType(in[0]) : nullptr;
      case OpKind::ReduceSum:
      case OpKind::ReduceMax:
      case OpKind::ReduceMean: return op.attrs.getInts("axes").empty() ? sameType(in[0]) : nullptr;
      case OpKind::Constant:
      case OpKind::Iota:
      case OpKind::RandomUniform:
      case OpKind::RandomNormal:
      case OpKind::Abs:
      case OpKind::Exp:
      case OpKind::Log:
      case OpKind::Sqrt:
      case OpKind::Rsqrt:
      case OpKind::Tanh:
      case OpKind::Sin:
      case OpKind::Cos:
      case OpKind::Sigmoid:
      case OpKind::Relu:
      case OpKind::Gelu:
      case OpKind::Max:
      case OpKind::Min:
      case OpKind::Eq:
      case OpKind::Ne:
      case OpKind::Lt:
      case OpKind::Le:
      case OpKind::Gt:
      case OpKind::Ge:
      case OpKind::Gather:
      case OpKind::ScatterAdd:
      case OpKind::Matmul:
      case OpKind::MatmulBias:
      case OpKind::Softmax:
      case OpKind::LogSoftmax:
      case OpKind::LayerNorm:
      case OpKind::CrossEntropy:
      case OpKind::Attention:
      case OpKind::Dropout:
      case OpKind::GeluGrad:
      case OpKind::SoftmaxGrad:
      case OpKind::LogSoftmaxGrad:
      case OpKind::LayerNormGrad:
      case OpKind::CrossEntropyGrad:
      case OpKind::AttentionGrad:
      case OpKind::AdamWUpdate:
      case OpKind::AdamWGroup:
      case OpKind::AllReduce:
      case OpKind::AddLayerNorm:
      case OpKind::CrossEntropyWithGrad:
      case OpKind::Fused:
      case OpKind::FusedSum:
      case OpKind::StateRead:
      case OpKind::StateAssign: return nullptr;
    }
    return nullptr;
  }

  // Merges an op with the op producing its operand; returns whether it did.
  static bool combine(Op& op) {
    if (op.operands.size() != 1 || !op.operands[0]->def) return false;
    Op& inner = *op.operands[0]->def;
    if (op.kind == OpKind::Reshape && inner.kind == OpKind::Reshape) {
      op.operands[0] = inner.operands[0];
      return true;
    }
    if (op.kind == OpKind::Transpose && inner.kind == OpKind::Transpose) {
      const auto& outer = op.attrs.getInts("perm");
      const auto& first = inner.attrs.getInts("perm");
      std::vector<int64_t> composed(outer.size());
      for (size_t i = 0; i < outer.size(); ++i) composed[i] = first[size_t(outer[i])];
      op.operands[0] = inner.operands[0];
      op.attrs.set("perm", composed);
      return true;
    }
    return false;
  }
};

}  // namespace

std::unique_ptr<Pass> createCanonicalize() { return std::make_unique<Canonicalize>(); }

}  // namespace kiln
