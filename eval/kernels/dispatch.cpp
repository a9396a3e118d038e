// The per-op kernel dispatch shared by the devices: a `switch` over every op kind (no default).
#include "eval/kernels/dispatch.h"

#include <algorithm>
#include <cmath>

#include "eval/kernels/backward.h"
#include "eval/kernels/elementwise.h"
#include "eval/kernels/fused.h"
#include "eval/kernels/nn.h"
#include "eval/kernels/scalar_math.h"
#include "eval/kernels/shape.h"
#include "eval/random.h"

namespace kiln::kernels {

namespace {
template <class T>
double seedOf(View<const T> t) { return double(t[0]); }

}  // namespace

template <class T>
std::string runKernel(const Op& op, const std::vector<View<const T>>& in, std::vector<View<T>>& outs) {
  const Attrs& a = op.attrs;
  View<T>* out = outs.empty() ? nullptr : &outs[0];
  auto x = [&](size_t i) -> View<const T> { return in[i]; };
  switch (op.kind) {
    case OpKind::Constant: {
      std::vector<double> v = a.getNumbers("value");
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = T(v.size() == 1 ? v[0] : v[size_t(i)]);
      return {};
    }
    case OpKind::Iota: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += out->type.rank();
      IndexWalker w(out->type.shape, {});
      for (int64_t i = 0; i < out->size(); ++i, w.next()) (*out)[i] = T(w.index()[size_t(axis)]);
      return {};
    }
    case OpKind::RandomUniform: {
      double lo = a.getFloat("low"), hi = a.getFloat("high");
      uint64_t seed = uint64_t(int64_t(seedOf<T>(x(0))));
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = T(lo + (hi - lo) * counterUniform(seed, uint64_t(i)));
      return {};
    }
    case OpKind::RandomNormal: {
      double mean = a.getFloat("mean"), sd = a.getFloat("std");
      uint64_t seed = uint64_t(int64_t(seedOf<T>(x(0))));
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] = T(mean + sd * counterNormal(seed, uint64_t(i)));
      return {};
    }
    case OpKind::Neg: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Neg>(v); }); return {};
    case OpKind::Abs: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Abs>(v); }); return {};
    case OpKind::Exp: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Exp>(v); }); return {};
    case OpKind::Log: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Log>(v); }); return {};
    case OpKind::Sqrt: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Sqrt>(v); }); return {};
    case OpKind::Rsqrt: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Rsqrt>(v); }); return {};
    case OpKind::Tanh: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Tanh>(v); }); return {};
    case OpKind::Sin: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Sin>(v); }); return {};
    case OpKind::Cos: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Cos>(v); }); return {};
    case OpKind::Sigmoid: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Sigmoid>(v); }); return {};
    case OpKind::Relu: unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::Relu>(v); }); return {};
    case OpKind::Gelu:
      if (a.getStr("approx") == "tanh") unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::GeluTanh>(v); });
      else unaryMap(x(0), *out, [](T v) { return scalarMath<FusedPrim::GeluErf>(v); });
      return {};
    case OpKind::Cast: {  // rounding is the cast's meaning (f32 -> i32 truncates), on every device
      DType to = out->type.dtype;
      unaryMap(x(0), *out, [to](auto v) { return T(roundToDType(double(v), to)); });
      return {};
    }
    case OpKind::Add: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Add>(p, q); }); return {};
    case OpKind::Sub: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Sub>(p, q); }); return {};
    case OpKind::Mul: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Mul>(p, q); }); return {};
    case OpKind::Div: return divide(x(0), x(1), *out);
    case OpKind::Max: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Max>(p, q); }); return {};
    case OpKind::Min: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Min>(p, q); }); return {};
    case OpKind::Pow: binaryMap(x(0), x(1), *out, [](T p, T q) { return scalarMath<FusedPrim::Pow>(p, q); }); return {};
    case OpKind::Eq: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p == q); }); return {};
    case OpKind::Ne: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p != q); }); return {};
    case OpKind::Lt: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p < q); }); return {};
    case OpKind::Le: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p <= q); }); return {};
    case OpKind::Gt: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p > q); }); return {};
    case OpKind::Ge: binaryMap(x(0), x(1), *out, [](auto p, auto q) { return T(p >= q); }); return {};
    case OpKind::Select: select(x(0), x(1), x(2), *out); return {};
    case OpKind::ReduceSum: reduce(x(0), a.getInts("axes"), ReduceKind::Sum, *out); return {};
    case OpKind::ReduceMax: reduce(x(0), a.getInts("axes"), ReduceKind::Max, *out); return {};
    case OpKind::ReduceMean: reduce(x(0), a.getInts("axes"), ReduceKind::Mean, *out); return {};
    case OpKind::Reshape: std::copy(x(0).data, x(0).data + x(0).size(), out->data); return {};
    // One rank: the reduction over the ranks is the value itself (devices with more run it themselves).
    case OpKind::AllReduce: std::copy(x(0).data, x(0).data + x(0).size(), out->data); return {};
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
    case OpKind::MatmulBias: {
      matmul(x(0), x(1), a.getBool("transpose_a"), a.getBool("transpose_b"), *out);
      const int64_t n = x(2).size();
      for (int64_t i = 0; i < out->size(); ++i) (*out)[i] += x(2)[i % n] + (in.size() > 3 ? x(3)[i] : T(0));
      const std::string& act = a.getStr("activation");
      for (int64_t i = 0; !act.empty() && i < out->size(); ++i) {
        T& y = (*out)[i];
        y = act == "relu" ? (y > T(0) ? y : T(0)) : act == "gelu_tanh" ? geluTanh<T>(y) : geluErf<T>(y);
      }
      return {};
    }
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
      attention(x(0), x(1), x(2), in.size() > 3 ? &in[3] : nullptr, a.getBool("causal"), a.getFloat("scale"), *out);
      return {};
    case OpKind::Dropout: dropout(x(0), uint64_t(int64_t(seedOf<T>(x(1)))), a.getFloat("rate"), *out); return {};
    case OpKind::GeluGrad: geluGrad(x(0), x(1), a.getStr("approx") == "tanh", *out); return {};
    case OpKind::SoftmaxGrad:
    case OpKind::LogSoftmaxGrad: {
      int axis = int(a.getInt("axis"));
      if (axis < 0) axis += x(0).type.rank();
      softmaxGrad(x(0), x(1), axis, op.kind == OpKind::LogSoftmaxGrad, *out);
      return {};
    }
    case OpKind::LayerNormGrad:
      layerNormGrad(x(0), x(1), x(2), a.getFloat("eps"), outs[0], outs[1], outs[2], in.size() > 3 ? in[3].data : nullptr);
      return {};
    case OpKind::CrossEntropyWithGrad:
      return crossEntropyWithGrad(x(0), x(1), x(2), a.getInt("ignore_index"), a.getStr("reduction"), outs[0], outs[1]);
    case OpKind::AddLayerNorm: addLayerNorm(x(0), x(1), x(2), x(3), a.getFloat("eps"), outs[0], outs[1]); return {};
    case OpKind::CrossEntropyGrad:
      crossEntropyGrad(x(0), x(1), x(2), a.getInt("ignore_index"), a.getStr("reduction"), *out);
      return {};
    case OpKind::AttentionGrad:
      attentionGrad(x(0), x(1), x(2), x(3), in.size() > 4 ? &in[4] : nullptr, a.getBool("causal"),
                    a.getFloat("scale"), outs[0], outs[1], outs[2]);
      return {};
    case OpKind::AdamWUpdate:
      adamwUpdate(x(0), x(1), x(2), x(3), double(x(4)[0]), double(x(5)[0]), double(x(6)[0]), a.getFloat("beta1"),
                  a.getFloat("beta2"), a.getFloat("eps"), outs[0], outs[1], outs[2]);
      return {};
    case OpKind::AdamWGroup:
      adamwGroup(in, a.getFloat("beta1"), a.getFloat("beta2"), a.getFloat("eps"), outs);
      return {};
    case OpKind::Fused: {
      auto e = FusedExpr::parse(a.getStr("expr"), int(in.size()));
      if (!e) return e.error().message;
      fusedMap(*e, in, *out);
      return {};
    }
    case OpKind::FusedSum: {
      auto e = FusedExpr::parse(a.getStr("expr"), int(in.size()));
      if (!e) return e.error().message;
      fusedSum(*e, in, a.getInt("axis"), *out);
      return {};
    }
    case OpKind::StateRead:  // the device passes the state's current value as in[0]
      if (in.size() != 1 || in[0].type != out->type) return "state @" + op.stateRef + " has no value of type " + out->type.str();
      std::copy(in[0].data, in[0].data + in[0].size(), out->data);
      return {};
    case OpKind::StateAssign: return {};
  }
  return "op kind without a reference kernel";
}


template std::string runKernel<double>(const Op&, const std::vector<View<const double>>&, std::vector<View<double>>&);
template std::string runKernel<float>(const Op&, const std::vector<View<const float>>&, std::vector<View<float>>&);

}  // namespace kiln::kernels
