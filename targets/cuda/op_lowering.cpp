#include "targets/cuda/op_lowering.h"

#include <algorithm>
#include <cmath>

#include "eval/kernels/view.h"
#include "ir/views.h"

namespace kiln::cuda {

namespace {

bool allF32(const Op& op) {
  for (const Value* v : op.operands)
    if (v->type.dtype == DType::BF16) return false;
  for (const auto& r : op.results)
    if (r->type.dtype == DType::BF16) return false;
  return true;
}

// Drops unit dims and merges dims that stay adjacent in the source, so the kernel decodes as few
// dims as possible (a head split [B,T,H,D] -> [B,H,T,D] becomes 4 dims; a plain copy one).
StridedShape coalesce(const Shape& dims, const std::vector<int64_t>& strides) {
  std::vector<std::pair<int64_t, int64_t>> ds;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!ds.empty() && ds.back().second == strides[i] * dims[i]) {
      ds.back().first *= dims[i];
      ds.back().second = strides[i];
    } else ds.emplace_back(dims[i], strides[i]);
  }
  StridedShape s;
  s.rank = int(ds.size());
  for (size_t i = 0; i < ds.size(); ++i) s.dims[i] = ds[i].first, s.strides[i] = ds[i].second;
  return s;
}

bool fits(const Shape& dims) { return dims.size() <= 8; }

OpLowering host(const std::string& why) {
  OpLowering l;
  l.kind = StepKind::Host;
  l.why = why;
  return l;
}

OpLowering of(StepKind k) {
  OpLowering l;
  l.kind = k;
  return l;
}

int normAxis(int64_t axis, int rank) { return int(axis < 0 ? axis + rank : axis); }

std::optional<ElementwiseCode> elementwiseCode(OpKind k) {
  using C = ElementwiseCode;
  switch (k) {
    case OpKind::Eq: return C::Eq;
    case OpKind::Ne: return C::Ne;
    case OpKind::Lt: return C::Lt;
    case OpKind::Le: return C::Le;
    case OpKind::Gt: return C::Gt;
    case OpKind::Ge: return C::Ge;
    case OpKind::Select: return C::Select;
    case OpKind::Add: return C::Add;
    case OpKind::Sub: return C::Sub;
    case OpKind::Mul: return C::Mul;
    case OpKind::Max: return C::Max;
    case OpKind::Min: return C::Min;
    default: return std::nullopt;
  }
}

}  // namespace

OpLowering lowerOp(const Op& op, bool fusedKernel) {
  using K = StepKind;
  switch (op.kind) {
    case OpKind::StateAssign: return of(K::Assign);
    case OpKind::StateRead: return of(K::StateRead);
    case OpKind::AllReduce: return of(K::AllReduce);
    default: break;
  }
  if (isView(&op)) return of(K::View);
  if (op.kind == OpKind::Cast) {
    const DType from = op.operands[0]->type.dtype, to = op.result()->type.dtype;
    if (from == DType::F32 && to == DType::BF16) return of(K::RoundBf16);
    if (from == DType::BF16 && to == DType::F32) return of(K::WidenBf16);
  }
  // Mixed precision: bf16 product operands of matmuls (cuBLASLt reads them) and attention.
  const bool bf16Product = op.kind == OpKind::Matmul || op.kind == OpKind::MatmulBias || op.kind == OpKind::Attention ||
                           op.kind == OpKind::AttentionGrad;
  if (!allF32(op) && !bf16Product) return host("bf16 values outside a matmul or attention");
  if (op.operands.empty() && op.kind != OpKind::StateRead) return of(K::Constant);
  const TensorType& rt = op.result()->type;
  const Shape& rs = rt.shape;
  auto rowsOf = [](const TensorType& t, OpLowering& l) {
    l.cols = t.shape.empty() ? 1 : t.shape.back();
    l.rows = l.cols ? t.numElements() / l.cols : 0;
  };
  switch (op.kind) {
    case OpKind::Matmul:
    case OpKind::MatmulBias: {
      std::string why;
      auto plan = planLtMatmul(op, &why);
      if (!plan) return host("matmul: " + why);
      OpLowering l = of(K::Matmul);
      l.matmul = plan;
      return l;
    }
    case OpKind::Fused:
    case OpKind::FusedSum:
      return fusedKernel ? of(K::Fused) : host("no generated kernel for it");
    case OpKind::LayerNorm:
    case OpKind::AddLayerNorm: {
      OpLowering l = of(op.kind == OpKind::LayerNorm ? K::LayerNorm : K::AddLayerNorm);
      rowsOf(op.operands[0]->type, l);
      return l;
    }
    case OpKind::LayerNormGrad: {
      OpLowering l = of(K::LayerNormGrad);
      rowsOf(op.operands[0]->type, l);
      return l;
    }
    case OpKind::CrossEntropyWithGrad: {
      const std::string& red = op.attrs.getStr("reduction");
      if (red != "mean" && red != "sum" && red != "none") return host("cross_entropy_with_grad: reduction '" + red + "'");
      OpLowering l = of(K::CrossEntropyWithGrad);
      rowsOf(op.operands[0]->type, l);
      return l;
    }
    case OpKind::AdamWGroup:
      return of(K::AdamWGroup);
    case OpKind::Attention:
    case OpKind::AttentionGrad: {
      const Shape& q = op.operands[0]->type.shape;
      const Shape& k = op.operands[1]->type.shape;
      const Shape& v = op.operands[2]->type.shape;
      if (q.size() != 4 || k.size() != 4 || v.size() != 4) return host("attention of rank other than 4");
      OpLowering l = of(op.kind == OpKind::Attention ? K::Attention : K::AttentionGrad);
      const size_t products = op.kind == OpKind::Attention ? 3 : 4;
      for (size_t i = 0; i < op.operands.size(); ++i) {
        const bool bf16 = op.operands[i]->type.dtype == DType::BF16;
        if (bf16 && i >= products) return host("attention: a bf16 mask");
        l.widenBf16 |= bf16;
      }
      for (const auto& r : op.results)
        if (r->type.dtype != DType::F32) return host("attention: a result other than f32");
      AttentionShape& a = l.attention;
      a.B = q[0], a.H = q[1], a.T = q[2], a.S = k[2], a.D = q[3], a.Dv = v[3];
      if (a.D > kAttentionMaxHeadDim || a.Dv > kAttentionMaxHeadDim)
        return host("attention: a head dimension above " + std::to_string(kAttentionMaxHeadDim));
      a.causal = op.attrs.getBool("causal");
      const double scale = op.attrs.getFloat("scale");
      a.scale = float(scale == 0.0 ? 1.0 / std::sqrt(double(a.D)) : scale);
      const size_t maskAt = op.kind == OpKind::Attention ? 3 : 4;
      if (op.operands.size() > maskAt) {
        const auto st = kernels::broadcastStrides(op.operands[maskAt]->type.shape, {a.B, a.H, a.T, a.S});
        for (int d = 0; d < 4; ++d) a.maskStride[d] = st[size_t(d)];
      }
      return l;
    }
    case OpKind::Transpose: {
      if (!fits(rs)) return host("transpose of rank above 8");
      const auto in = kernels::rowMajorStrides(op.operands[0]->type.shape);
      std::vector<int64_t> st;
      for (int64_t p : op.attrs.getInts("perm")) st.push_back(in[size_t(p)]);
      OpLowering l = of(K::StridedCopy);
      l.strided = coalesce(rs, st);
      return l;
    }
    case OpKind::Slice: {
      if (!fits(rs)) return host("slice of rank above 8");
      const auto in = kernels::rowMajorStrides(op.operands[0]->type.shape);
      const auto& start = op.attrs.getInts("start");
      const auto& stride = op.attrs.getInts("stride");
      OpLowering l = of(K::StridedCopy);
      std::vector<int64_t> st(in.size());
      for (size_t d = 0; d < in.size(); ++d) {
        l.base += start[d] * in[d];
        st[d] = in[d] * (stride.empty() ? 1 : stride[d]);
      }
      l.strided = coalesce(rs, st);
      return l;
    }
    case OpKind::BroadcastTo: {
      if (!fits(rs)) return host("broadcast_to of rank above 8");
      OpLowering l = of(K::StridedCopy);
      l.strided = coalesce(rs, kernels::broadcastStrides(op.operands[0]->type.shape, rs));
      return l;
    }
    case OpKind::Concat: {
      OpLowering l = of(K::Concat);
      l.concatAxis = normAxis(op.attrs.getInt("axis"), rt.rank());
      return l;
    }
    case OpKind::Gather:
    case OpKind::ScatterAdd: {
      const Shape& table = op.operands[0]->type.shape;
      OpLowering l = of(op.kind == OpKind::Gather ? K::Gather : K::ScatterAdd);
      const int axis = normAxis(op.attrs.getInt("axis"), int(table.size()));
      IndexedShape& s = l.indexed;
      for (int d = 0; d < axis; ++d) s.outer *= table[size_t(d)];
      s.dim = table[size_t(axis)];
      for (size_t d = size_t(axis) + 1; d < table.size(); ++d) s.inner *= table[d];
      s.count = op.operands[1]->type.numElements();
      return l;
    }
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMean: {
      const Shape& xs = op.operands[0]->type.shape;
      if (!fits(xs)) return host(std::string(mnemonic(op.kind)) + " of rank above 8");
      const auto in = kernels::rowMajorStrides(xs);
      std::vector<bool> summed(xs.size(), false);
      for (int64_t a : op.attrs.getInts("axes")) summed[size_t(normAxis(a, int(xs.size())))] = true;
      Shape keptDims, redDims;
      std::vector<int64_t> keptStrides, redStrides;
      for (size_t d = 0; d < xs.size(); ++d) {
        (summed[d] ? redDims : keptDims).push_back(xs[d]);
        (summed[d] ? redStrides : keptStrides).push_back(in[d]);
      }
      OpLowering l = of(K::Reduce);
      l.reduceMode = op.kind == OpKind::ReduceSum ? ReduceMode::Sum : op.kind == OpKind::ReduceMax ? ReduceMode::Max : ReduceMode::Mean;
      l.strided = coalesce(keptDims, keptStrides);
      l.reduced = coalesce(redDims, redStrides);
      l.perOutput = 1;
      for (int64_t d : redDims) l.perOutput *= d;
      return l;
    }
    case OpKind::Pad: {
      const Shape& xs = op.operands[0]->type.shape;
      if (!fits(rs)) return host("pad of rank above 8");
      OpLowering l = of(K::Pad);
      const auto in = kernels::rowMajorStrides(xs);
      const auto& low = op.attrs.getInts("low");
      const auto& interior = op.attrs.getInts("interior");
      l.pad.rank = int(rs.size());
      for (size_t d = 0; d < rs.size(); ++d) {
        l.pad.outDims[d] = rs[d];
        l.pad.low[d] = low[d];
        l.pad.step[d] = 1 + (interior.empty() ? 0 : interior[d]);
        l.pad.inDims[d] = xs[d];
        l.pad.inStrides[d] = in[d];
      }
      return l;
    }
    case OpKind::Cast: {
      const DType to = rt.dtype;
      if (to != DType::F32 && to != DType::F64 && to != DType::I32 && to != DType::I64 && to != DType::Bool)
        return host("cast to " + std::string(dtypeName(to)));  // f16: its rounding
      OpLowering l = of(K::Cast);
      l.castTo = to == DType::Bool ? CastTo::Bool : isInteger(to) ? CastTo::Integer : CastTo::Float;
      return l;
    }
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyGrad: {
      const std::string& red = op.attrs.getStr("reduction");
      if (red != "mean" && red != "sum" && red != "none") return host(std::string(mnemonic(op.kind)) + ": reduction '" + red + "'");
      OpLowering l = of(op.kind == OpKind::CrossEntropy ? K::CrossEntropy : K::CrossEntropyGrad);
      rowsOf(op.operands[0]->type, l);
      return l;
    }
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
    case OpKind::SoftmaxGrad:
    case OpKind::LogSoftmaxGrad: {
      const Shape& xs = op.operands[0]->type.shape;
      if (xs.empty()) return host(std::string(mnemonic(op.kind)) + " of a scalar");
      const int axis = normAxis(op.attrs.getInt("axis"), int(xs.size()));
      const bool grad = op.kind == OpKind::SoftmaxGrad || op.kind == OpKind::LogSoftmaxGrad;
      OpLowering l = of(grad ? K::SoftmaxGrad : K::Softmax);
      l.len = xs[size_t(axis)];
      l.inner = 1;
      for (size_t d = size_t(axis) + 1; d < xs.size(); ++d) l.inner *= xs[d];
      l.outer = l.len * l.inner == 0 ? 0 : rt.numElements() / (l.len * l.inner);
      return l;
    }
    case OpKind::Eq: case OpKind::Ne: case OpKind::Lt: case OpKind::Le: case OpKind::Gt: case OpKind::Ge:
    case OpKind::Select: case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Max: case OpKind::Min: {
      if (!fits(rs)) return host(std::string(mnemonic(op.kind)) + " of rank above 8");
      // Integer results must stay exact in f32 storage; f32 ones round as the reference does.
      OpLowering l = of(K::Elementwise);
      l.code = *elementwiseCode(op.kind);
      l.broadcast.rank = int(rs.size());
      for (size_t d = 0; d < rs.size(); ++d) l.broadcast.dims[d] = rs[d];
      for (size_t k = 0; k < op.operands.size(); ++k) {
        const auto st = kernels::broadcastStrides(op.operands[k]->type.shape, rs);
        for (size_t d = 0; d < rs.size(); ++d) l.broadcast.strides[k][d] = st[d];
      }
      return l;
    }
    default:
      return host("no cuda kernel for " + std::string(mnemonic(op.kind)) + " yet");
  }
}

int64_t scratchBytes(const Function& f) {
  int64_t floats = 0;
  for (const auto& op : f.ops) {
    const OpLowering l = lowerOp(*op, false);
    if (l.kind == StepKind::LayerNormGrad) floats = std::max<int64_t>(floats, int64_t(columnSumLaunch(l.rows, l.cols).workspaceFloats));
    if (l.kind == StepKind::CrossEntropyWithGrad || l.kind == StepKind::CrossEntropy || l.kind == StepKind::CrossEntropyGrad)
      floats = std::max(floats, 2 * l.rows + 3);
    // scatter_add's sort (kernels/tensor_ops.cu): keys and positions twice, and CUB's temporary
    // storage, about as much again (the device sizes it exactly when it first runs).
    if (l.kind == StepKind::ScatterAdd) floats = std::max(floats, 8 * l.indexed.count + (int64_t(1) << 14));
    if (l.kind == StepKind::Attention || l.kind == StepKind::AttentionGrad) {
      int64_t need = l.kind == StepKind::AttentionGrad ? 3 * l.attention.B * l.attention.H * l.attention.T : 0;
      if (l.widenBf16)
        for (const Value* v : op->operands) need += v->type.dtype == DType::BF16 ? v->type.numElements() : 0;
      floats = std::max(floats, need);
    }
  }
  return kCublasLtWorkspaceBytes + 4 * floats + 64;
}

std::map<std::string, int> hostOps(const Module& m, const std::map<const Op*, bool>& fusedKernels) {
  std::map<std::string, int> n;
  for (const auto& f : m.functions)
    for (const auto& op : f->ops) {
      auto it = fusedKernels.find(op.get());
      if (lowerOp(*op, it != fusedKernels.end() && it->second).kind == StepKind::Host) ++n[std::string(mnemonic(op->kind))];
    }
  return n;
}

}  // namespace kiln::cuda
