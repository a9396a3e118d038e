// Elementwise fusion: chains of f32 elementwise ops become one `fused` op whose program
// (ir/fused_expr.h) the cpu codegen compiles into a single loop nest.
//
// Algorithm: one forward walk. Every fusible op starts a group; an op absorbs the group that
// produces one of its operands when that value has no other use (not even as a function
// output) and already has the op's full result shape (so nothing is recomputed per broadcast
// element). Scalar splat constants are inlined into the program. A group is then emitted as
// one `fused` op at the position of its last op, whose result it replaces; the absorbed ops
// are erased. Invariant: the fused op's operands are all defined before that position (they
// were operands of earlier ops of the group), so the function stays topologically ordered.
// Groups are capped (max-inputs, max-ops) to keep generated kernels small.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "compiler/pass.h"
#include "ir/numbers.h"
#include "ir/fused_expr.h"

namespace kiln {
namespace {

std::optional<FusedPrim> primitiveOf(const Op& op) {
  switch (op.kind) {
    case OpKind::Neg: return FusedPrim::Neg;
    case OpKind::Abs: return FusedPrim::Abs;
    case OpKind::Exp: return FusedPrim::Exp;
    case OpKind::Log: return FusedPrim::Log;
    case OpKind::Sqrt: return FusedPrim::Sqrt;
    case OpKind::Rsqrt: return FusedPrim::Rsqrt;
    case OpKind::Tanh: return FusedPrim::Tanh;
    case OpKind::Sin: return FusedPrim::Sin;
    case OpKind::Cos: return FusedPrim::Cos;
    case OpKind::Sigmoid: return FusedPrim::Sigmoid;
    case OpKind::Relu: return FusedPrim::Relu;
    case OpKind::Gelu: return op.attrs.getStr("approx") == "tanh" ? FusedPrim::GeluTanh : FusedPrim::GeluErf;
    case OpKind::GeluGrad: return op.attrs.getStr("approx") == "tanh" ? FusedPrim::GeluGradTanh : FusedPrim::GeluGradErf;
    case OpKind::Add: return FusedPrim::Add;
    case OpKind::Sub: return FusedPrim::Sub;
    case OpKind::Mul: return FusedPrim::Mul;
    case OpKind::Div: return FusedPrim::Div;
    case OpKind::Max: return FusedPrim::Max;
    case OpKind::Min: return FusedPrim::Min;
    case OpKind::Pow: return FusedPrim::Pow;
    // Every other op stays out of fused programs; listed so a new op kind fails the build here.
    case OpKind::Constant: case OpKind::Iota: case OpKind::RandomUniform: case OpKind::RandomNormal:
    case OpKind::Cast: case OpKind::Eq: case OpKind::Ne: case OpKind::Lt: case OpKind::Le: case OpKind::Gt:
    case OpKind::Ge: case OpKind::Select: case OpKind::ReduceSum: case OpKind::ReduceMax:
    case OpKind::ReduceMean: case OpKind::Reshape: case OpKind::Transpose: case OpKind::BroadcastTo:
    case OpKind::Slice: case OpKind::Concat: case OpKind::Pad: case OpKind::Gather: case OpKind::ScatterAdd:
    case OpKind::Matmul: case OpKind::MatmulBias: case OpKind::Softmax: case OpKind::LogSoftmax:
    case OpKind::LayerNorm: case OpKind::CrossEntropy: case OpKind::Attention: case OpKind::Dropout:
    case OpKind::SoftmaxGrad: case OpKind::LogSoftmaxGrad: case OpKind::LayerNormGrad:
    case OpKind::CrossEntropyGrad: case OpKind::AttentionGrad: case OpKind::CrossEntropyWithGrad:
    case OpKind::AddLayerNorm: case OpKind::Fused: case OpKind::FusedSum: case OpKind::AdamWUpdate:
    case OpKind::AdamWGroup: case OpKind::AllReduce: case OpKind::StateRead: case OpKind::StateAssign:
      return std::nullopt;
  }
  return std::nullopt;
}

// Only ops of the type the target's kernels compute in (the `dtype` option, which the target
// gives): a kernel computes in one type, and other types would round after every op.
bool fusible(const Op& op, DType dtype) {
  if (!primitiveOf(op) || op.results.size() != 1 || op.result()->type.dtype != dtype) return false;
  for (const Value* v : op.operands)
    if (v->type.dtype != dtype) return false;
  return op.result()->type.numElements() > 0;
}

// A constant with one value repeated (a scalar, or a splat), of the kernels' type.
std::optional<double> splatConstant(const Value* v, DType dtype) {
  if (!v->def || v->def->kind != OpKind::Constant || v->type.dtype != dtype) return std::nullopt;
  std::vector<double> vals = v->def->attrs.getNumbers("value");
  if (vals.empty() || std::any_of(vals.begin(), vals.end(), [&](double x) { return x != vals[0]; })) return std::nullopt;
  return vals[0];
}

struct Group {
  std::vector<Op*> ops;  // in program order; the last is the root
};

class FuseElementwise : public FunctionPass {
 public:
  FuseElementwise(int maxInputs, int maxOps, DType dtype) : maxInputs_(maxInputs), maxOps_(maxOps), dtype_(dtype) {}
  std::string name() const override { return "fuse-elementwise"; }
  std::string description() const override { return "merge chains of elementwise ops (of the option dtype, f32 by default) into fused kernels"; }


 private:
  bool runOn(Function& f) override {
    std::unordered_map<const Value*, int> uses = countUses(f);  // an output is always materialized

    std::unordered_map<const Op*, size_t> position;
    for (size_t i = 0; i < f.ops.size(); ++i) position[f.ops[i].get()] = i;
    std::unordered_map<const Op*, std::shared_ptr<Group>> groupOf;
    for (const auto& opPtr : f.ops) {
      Op* op = opPtr.get();
      if (!fusible(*op, dtype_)) continue;
      auto g = std::make_shared<Group>();
      for (const Value* v : op->operands) {
        if (!v->def || !groupOf.count(v->def) || uses[v] != 1 || v->type.shape != op->result()->type.shape) continue;
        auto& producer = groupOf[v->def];
        if (producer->ops.back() != v->def) continue;  // only a group's root escapes it
        Group merged = *g;
        merged.ops.insert(merged.ops.end(), producer->ops.begin(), producer->ops.end());
        merged.ops.push_back(op);
        if (int(merged.ops.size()) > maxOps_ || countInputs(merged) > maxInputs_) continue;
        g->ops.insert(g->ops.end(), producer->ops.begin(), producer->ops.end());
        for (Op* member : producer->ops) groupOf[member] = g;
      }
      g->ops.push_back(op);
      std::sort(g->ops.begin(), g->ops.end(), [&](Op* a, Op* b) { return position[a] < position[b]; });
      groupOf[op] = g;
    }

    std::set<const Group*> emitted;
    std::set<const Op*> absorbed;
    bool changed = false;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* op = f.ops[i].get();
      auto it = groupOf.find(op);
      if (it == groupOf.end() || it->second->ops.back() != op || !emitted.insert(it->second.get()).second) continue;
      const Group& g = *it->second;
      std::vector<Value*> inputs;
      std::string expr = program(g, inputs);
      Attrs attrs;
      attrs.set("expr", expr);
      Op* fused = f.insertOp(i, OpKind::Fused, inputs, {op->result()->type}, attrs);
      fused->name = op->name;
      fused->result()->name = op->result()->name;
      fused->loc = op->loc;
      fused->textLoc = op->textLoc;
      f.replaceAllUses(op->result(), fused->result());
      absorbed.insert(g.ops.begin(), g.ops.end());
      changed = true;
      ++i;  // skip the op the fused one replaces (now at i + 1)
    }
    f.eraseOpsIf([&](const Op& op) { return absorbed.count(&op) != 0; });
    return changed;
  }

  // The group's operands from outside it (splat constants are inlined, not counted).
  int countInputs(const Group& g) const {
    std::set<const Value*> inside, outside;
    for (const Op* op : g.ops) inside.insert(op->result());
    for (const Op* op : g.ops)
      for (const Value* v : op->operands)
        if (!inside.count(v) && !splatConstant(v, dtype_)) outside.insert(v);
    return int(outside.size());
  }

  std::string program(const Group& g, std::vector<Value*>& inputs) const {
    FusedExpr e;
    std::map<const Value*, int> temp;
    for (const Op* op : g.ops) {
      FusedInstr ins{*primitiveOf(*op), {}};
      for (Value* v : op->operands) {
        if (auto t = temp.find(v); t != temp.end()) {
          ins.args.push_back({FusedArg::Temp, t->second, 0.0});
        } else if (auto c = splatConstant(v, dtype_)) {
          ins.args.push_back({FusedArg::Constant, 0, *c});
        } else {
          auto at = std::find(inputs.begin(), inputs.end(), v);
          if (at == inputs.end()) at = inputs.insert(inputs.end(), v);
          ins.args.push_back({FusedArg::Input, int(at - inputs.begin()), 0.0});
        }
      }
      temp[op->result()] = int(e.instrs.size());
      e.instrs.push_back(std::move(ins));
    }
    return e.str();
  }

  int maxInputs_, maxOps_;
  DType dtype_;
};

Expected<int> intOption(const PassOptions& o, const std::string& key, int fallback, int lo, int hi) {
  auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (auto v = parseInt64(it->second); v && *v >= lo && *v <= hi) return int(*v);
  return makeError({}, "fuse-elementwise option " + key + " must be an integer in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "], got '" + it->second + "'");
}

}  // namespace

Expected<std::unique_ptr<Pass>> createFuseElementwisePass(const PassOptions& options) {
  for (const auto& [k, v] : options)
    if (k != "max-inputs" && k != "max-ops" && k != "dtype")
      return makeError({}, "fuse-elementwise has no option '" + k + "' (options: max-inputs, max-ops, dtype)");
  DType dtype = DType::F32;
  if (auto it = options.find("dtype"); it != options.end()) {
    auto t = parseDType(it->second);
    if (!t || !isFloat(*t)) return makeError({}, "fuse-elementwise option dtype must be a float type (f32, ...), got '" + it->second + "'");
    dtype = *t;
  }
  auto inputs = intOption(options, "max-inputs", 8, 1, 8);
  if (!inputs) return inputs.error();
  auto ops = intOption(options, "max-ops", 32, 1, 256);
  if (!ops) return ops.error();
  return std::unique_ptr<Pass>(std::make_unique<FuseElementwise>(*inputs, *ops, dtype));
}

}  // namespace kiln
