#include "ir/shape_inference.h"

#include <algorithm>
#include <set>

#include "ir/fused_expr.h"

namespace kiln {

std::optional<Shape> broadcastShapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcastsTo(const Shape& from, const Shape& to) {
  auto s = broadcastShapes(from, to);
  return s && *s == to;
}

std::optional<int> normalizeAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return int(axis < 0 ? axis + rank : axis);
}

namespace {

struct Fail {
  std::string msg;
};

std::string typesStr(const std::vector<TensorType>& ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) s += (i ? ", " : "") + ts[i].str();
  return s;
}

void require(bool cond, const std::string& msg) {
  if (!cond) throw Fail{msg};
}

int axisAttr(const Attrs& attrs, const char* name, int rank) {
  int64_t a = attrs.getInt(name);
  auto ax = normalizeAxis(a, rank);
  require(ax.has_value(), std::string(name) + " " + std::to_string(a) + " is out of range for rank " +
                              std::to_string(rank));
  return *ax;
}

void requireIntegerScalar(const TensorType& t, const char* what) {
  require(isInteger(t.dtype) && t.rank() == 0,
          std::string(what) + " must be an integer scalar (i32[] or i64[]), got " + t.str());
}

// Mixed precision: a matmul or attention over bf16 operands may declare f32 results (the
// products accumulate in f32 and are not rounded to bf16); otherwise results take the operands'
// dtype.
DType resultDType(DType operands, const std::vector<TensorType>& declared, size_t i) {
  if (operands == DType::BF16 && i < declared.size() && declared[i].dtype == DType::F32) return DType::F32;
  return operands;
}

TensorType declaredOne(const std::vector<TensorType>& declared) {
  require(declared.size() == 1, "expected one declared result type");
  return declared[0];
}

TensorType crossEntropyType(const TensorType& logits, const TensorType& labels, const Attrs& attrs) {
  require(isFloat(logits.dtype) && logits.rank() >= 1,
          "cross_entropy logits must be floating point of rank >= 1, got " + logits.str());
  require(isInteger(labels.dtype), "cross_entropy labels must be i32 or i64, got " + labels.str());
  Shape want(logits.shape.begin(), logits.shape.end() - 1);
  require(labels.shape == want, "cross_entropy labels must have shape " + shapeStr(want) + " for logits " +
                                    logits.str() + ", got " + labels.str());
  const std::string& red = attrs.getStr("reduction");
  require(red == "mean" || red == "sum" || red == "none",
          "cross_entropy reduction must be \"mean\", \"sum\" or \"none\", got \"" + red + "\"");
  return TensorType{logits.dtype, red == "none" ? want : Shape{}};
}

// q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv], optional mask broadcasting to [B,H,T,S].
TensorType attentionType(const TensorType& q, const TensorType& k, const TensorType& v, const TensorType* mask,
                         const Attrs& attrs, DType result) {
  require(q.rank() == 4 && k.rank() == 4 && v.rank() == 4,
          "attention takes q, k, v as [batch, heads, seq, head_dim], got " + typesStr({q, k, v}));
  require(q.dtype == k.dtype && q.dtype == v.dtype, "attention operands must share a dtype");
  require(k.shape[0] == q.shape[0] && k.shape[1] == q.shape[1] && k.shape[3] == q.shape[3],
          "attention k must be [" + std::to_string(q.shape[0]) + "," + std::to_string(q.shape[1]) + ",S," +
              std::to_string(q.shape[3]) + "], got " + k.str());
  require(v.shape[0] == q.shape[0] && v.shape[1] == q.shape[1] && v.shape[2] == k.shape[2],
          "attention v must be [" + std::to_string(q.shape[0]) + "," + std::to_string(q.shape[1]) + "," +
              std::to_string(k.shape[2]) + ",Dv], got " + v.str());
  if (attrs.getBool("causal")) require(q.shape[2] <= k.shape[2], "causal attention needs no more queries than keys");
  if (mask) {
    Shape scores{q.shape[0], q.shape[1], q.shape[2], k.shape[2]};
    require((mask->dtype == q.dtype || mask->dtype == result) && broadcastsTo(mask->shape, scores),
            "attention mask must be " + std::string(dtypeName(q.dtype)) + " and broadcast to " + shapeStr(scores) +
                ", got " + mask->str());
  }
  return TensorType{result, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]}};
}

void requireSame(const TensorType& a, const TensorType& b, const std::string& what) {
  require(a == b, what + " must be " + a.str() + ", got " + b.str());
}

std::vector<TensorType> infer(OpKind kind, const std::vector<TensorType>& in, const Attrs& attrs,
                              const std::vector<TensorType>& declared) {
  const OpInfo& info = opInfo(kind);
  if (info.traits & kFloatOnly)
    for (size_t i = 0; i < in.size(); ++i) {
      bool seedOperand = (kind == OpKind::Dropout && i == 1);
      require(seedOperand || isFloat(in[i].dtype),
              std::string(info.mnemonic) + " needs floating point operands, operand " +
                  std::to_string(i) + " is " + in[i].str());
    }
  switch (kind) {
    case OpKind::Constant: {
      TensorType t = declaredOne(declared);
      size_t n = attrs.getNumbers("value").size();
      require(n == 1 || int64_t(n) == t.numElements(),
              "constant has " + std::to_string(n) + " values; " + t.str() + " needs 1 or " +
                  std::to_string(t.numElements()));
      return {t};
    }
    case OpKind::Iota: {
      TensorType t = declaredOne(declared);
      require(t.rank() >= 1, "iota needs a result of rank >= 1");
      require(t.dtype != DType::Bool, "iota cannot produce bool");
      axisAttr(attrs, "axis", t.rank());
      return {t};
    }
    case OpKind::RandomUniform:
    case OpKind::RandomNormal: {
      requireIntegerScalar(in[0], "the seed operand");
      TensorType t = declaredOne(declared);
      require(isFloat(t.dtype), "random values must be floating point, got " + t.str());
      if (kind == OpKind::RandomUniform)
        require(attrs.getFloat("low") <= attrs.getFloat("high"), "random_uniform needs low <= high");
      else
        require(attrs.getFloat("std") >= 0, "random_normal needs std >= 0");
      return {t};
    }
    case OpKind::Neg:
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
    case OpKind::Gelu: {
      require(in[0].dtype != DType::Bool, std::string(info.mnemonic) + " does not take bool");
      if (kind == OpKind::Gelu) {
        const std::string& a = attrs.getStr("approx");
        require(a == "tanh" || a == "erf", "gelu approx must be \"tanh\" or \"erf\", got \"" + a + "\"");
      }
      return {in[0]};
    }
    case OpKind::Cast: {
      TensorType t = declaredOne(declared);
      require(t.shape == in[0].shape,
              "cast keeps the shape: operand is " + in[0].str() + ", result " + t.str());
      return {t};
    }
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::Pow:
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge: {
      require(in[0].dtype == in[1].dtype, std::string(info.mnemonic) +
                                               " operands must have the same dtype, got " +
                                               typesStr(in));
      bool boolOk = kind == OpKind::Eq || kind == OpKind::Ne;
      require(boolOk || in[0].dtype != DType::Bool,
              std::string(info.mnemonic) + " does not take bool operands");
      auto s = broadcastShapes(in[0].shape, in[1].shape);
      require(s.has_value(), "shapes " + shapeStr(in[0].shape) + " and " + shapeStr(in[1].shape) +
                                 " do not broadcast");
      DType rt = (info.traits & kComparison) ? DType::Bool : in[0].dtype;
      return {TensorType{rt, *s}};
    }
    case OpKind::Select: {
      require(in[0].dtype == DType::Bool, "select condition must be bool, got " + in[0].str());
      require(in[1].dtype == in[2].dtype,
              "select branches must have the same dtype, got " + typesStr({in[1], in[2]}));
      auto s = broadcastShapes(in[0].shape, in[1].shape);
      if (s) s = broadcastShapes(*s, in[2].shape);
      require(s.has_value(), "select shapes " + typesStr(in) + " do not broadcast");
      return {TensorType{in[1].dtype, *s}};
    }
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMean: {
      require(in[0].dtype != DType::Bool, std::string(info.mnemonic) + " does not take bool");
      std::set<int> axes;
      for (int64_t a : attrs.getInts("axes")) {
        auto ax = normalizeAxis(a, in[0].rank());
        require(ax.has_value(), "axis " + std::to_string(a) + " is out of range for " + in[0].str());
        require(axes.insert(*ax).second, "axis " + std::to_string(a) + " is listed twice");
      }
      bool keep = attrs.getBool("keepdims");
      Shape s;
      for (int i = 0; i < in[0].rank(); ++i) {
        if (!axes.count(i)) s.push_back(in[0].shape[size_t(i)]);
        else if (keep) s.push_back(1);
      }
      return {TensorType{in[0].dtype, s}};
    }
    case OpKind::Reshape: {
      TensorType t = declaredOne(declared);
      require(t.dtype == in[0].dtype, "reshape keeps the dtype: " + in[0].str() + " to " + t.str());
      require(t.numElements() == in[0].numElements(),
              "reshape of " + in[0].str() + " to " + t.str() + " changes the element count");
      return {t};
    }
    case OpKind::Transpose: {
      const auto& perm = attrs.getInts("perm");
      require(int(perm.size()) == in[0].rank(), "perm has " + std::to_string(perm.size()) +
                                                    " entries for " + in[0].str());
      std::vector<bool> seen(perm.size(), false);
      Shape s;
      for (int64_t p : perm) {
        require(p >= 0 && p < int64_t(perm.size()) && !seen[size_t(p)],
                "perm is not a permutation of 0.." + std::to_string(int64_t(perm.size()) - 1));
        seen[size_t(p)] = true;
        s.push_back(in[0].shape[size_t(p)]);
      }
      return {TensorType{in[0].dtype, s}};
    }
    case OpKind::BroadcastTo: {
      TensorType t = declaredOne(declared);
      require(t.dtype == in[0].dtype, "broadcast_to keeps the dtype: " + in[0].str() + " to " + t.str());
      require(broadcastsTo(in[0].shape, t.shape), in[0].str() + " does not broadcast to " + t.str());
      return {t};
    }
    case OpKind::Slice: {
      const auto& start = attrs.getInts("start");
      const auto& limit = attrs.getInts("limit");
      const auto& stride = attrs.getInts("stride");
      size_t r = size_t(in[0].rank());
      require(start.size() == r && limit.size() == r && (stride.empty() || stride.size() == r),
              "slice start, limit and stride need one entry per dimension of " + in[0].str());
      Shape s;
      for (size_t i = 0; i < r; ++i) {
        int64_t st = stride.empty() ? 1 : stride[i];
        require(st >= 1, "slice stride must be >= 1");
        require(0 <= start[i] && start[i] <= limit[i] && limit[i] <= in[0].shape[i],
                "slice [" + std::to_string(start[i]) + ":" + std::to_string(limit[i]) +
                    "] is out of bounds for dimension " + std::to_string(i) + " of " + in[0].str());
        s.push_back((limit[i] - start[i] + st - 1) / st);
      }
      return {TensorType{in[0].dtype, s}};
    }
    case OpKind::Concat: {
      int axis = axisAttr(attrs, "axis", in[0].rank());
      TensorType t = in[0];
      for (size_t i = 1; i < in.size(); ++i) {
        bool same = in[i].dtype == t.dtype && in[i].rank() == t.rank();
        for (int d = 0; same && d < t.rank(); ++d)
          same = d == axis || in[i].shape[size_t(d)] == in[0].shape[size_t(d)];
        require(same, "concat operands must agree except on axis " + std::to_string(axis) +
                          ", got " + typesStr(in));
        t.shape[size_t(axis)] += in[i].shape[size_t(axis)];
      }
      require(t.shape[size_t(axis)] <= kMaxDim, "concat result is too large");
      return {t};
    }
    case OpKind::Pad: {
      const auto& lo = attrs.getInts("low");
      const auto& hi = attrs.getInts("high");
      const auto& interior = attrs.getInts("interior");
      size_t r = size_t(in[0].rank());
      require(lo.size() == r && hi.size() == r && (interior.empty() || interior.size() == r),
              "pad low, high and interior need one entry per dimension of " + in[0].str());
      Shape s = in[0].shape;
      for (size_t i = 0; i < s.size(); ++i) {
        int64_t inner = interior.empty() ? 0 : interior[i];
        for (int64_t amount : {lo[i], hi[i], inner})
          require(amount >= 0 && amount <= kMaxDim, "pad amounts must be between 0 and 2^40");
        if (s[i] > 0) s[i] += (s[i] - 1) * inner;
        s[i] += lo[i] + hi[i];
      }
      return {TensorType{in[0].dtype, s}};
    }
    case OpKind::Gather:
    case OpKind::ScatterAdd: {
      const TensorType& table = in[0];
      const TensorType& idx = in[1];
      require(table.rank() >= 1, "gather/scatter_add needs a table of rank >= 1");
      require(isInteger(idx.dtype), "indices must be i32 or i64, got " + idx.str());
      int axis = axisAttr(attrs, "axis", table.rank());
      Shape s(table.shape.begin(), table.shape.begin() + axis);
      s.insert(s.end(), idx.shape.begin(), idx.shape.end());
      s.insert(s.end(), table.shape.begin() + axis + 1, table.shape.end());
      require(int(s.size()) <= kMaxRank, "result rank exceeds " + std::to_string(kMaxRank));
      if (kind == OpKind::Gather) return {TensorType{table.dtype, s}};
      TensorType want{table.dtype, s};
      require(in[2] == want, "scatter_add updates must be " + want.str() + ", got " + in[2].str());
      return {table};
    }
    case OpKind::MatmulBias: {
      auto mm = inferResultTypes(OpKind::Matmul, {in[0], in[1]}, attrs, declared);
      require(mm.ok(), mm.error);
      const TensorType& out = mm.types[0];
      require(in[2].dtype == out.dtype && in[2].shape == Shape{out.shape.back()},
              "matmul_bias bias must be " + TensorType{out.dtype, {out.shape.back()}}.str() + ", got " + in[2].str());
      require(in.size() < 4 || in[3] == out, "matmul_bias residual must be " + out.str() + ", got " +
                                                  (in.size() < 4 ? std::string() : in[3].str()));
      const std::string& act = attrs.getStr("activation");
      require(act.empty() || act == "relu" || act == "gelu_tanh" || act == "gelu_erf",
              "matmul_bias activation must be relu, gelu_tanh or gelu_erf (or none), got '" + act + "'");
      require(act.empty() || in.size() < 4, "matmul_bias takes an activation or a residual, not both");
      return {out};
    }
    case OpKind::Matmul: {
      const TensorType& a = in[0];
      const TensorType& b = in[1];
      require(a.rank() >= 2 && b.rank() >= 2, "matmul needs operands of rank >= 2, got " + typesStr(in));
      require(a.dtype == b.dtype && a.dtype != DType::Bool,
              "matmul operands must share a numeric dtype, got " + typesStr(in));
      bool ta = attrs.getBool("transpose_a"), tb = attrs.getBool("transpose_b");
      int64_t m = a.shape[size_t(a.rank() - (ta ? 1 : 2))];
      int64_t ka = a.shape[size_t(a.rank() - (ta ? 2 : 1))];
      int64_t kb = b.shape[size_t(b.rank() - (tb ? 1 : 2))];
      int64_t n = b.shape[size_t(b.rank() - (tb ? 2 : 1))];
      require(ka == kb, "matmul contraction dims differ: " + std::to_string(ka) + " vs " +
                            std::to_string(kb) + " for " + typesStr(in));
      Shape ba(a.shape.begin(), a.shape.end() - 2), bb(b.shape.begin(), b.shape.end() - 2);
      auto batch = broadcastShapes(ba, bb);
      require(batch.has_value(), "matmul batch dims " + shapeStr(ba) + " and " + shapeStr(bb) +
                                     " do not broadcast");
      Shape s = *batch;
      s.push_back(m);
      s.push_back(n);
      return {TensorType{resultDType(a.dtype, declared, 0), s}};
    }
    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      require(in[0].rank() >= 1, std::string(info.mnemonic) + " needs rank >= 1");
      axisAttr(attrs, "axis", in[0].rank());
      return {in[0]};
    }
    case OpKind::LayerNorm: {
      require(in[0].rank() >= 1, "layer_norm needs rank >= 1");
      TensorType p{in[0].dtype, {in[0].shape.back()}};
      require(in[1] == p && in[2] == p, "layer_norm gain and bias must be " + p.str() + ", got " +
                                            typesStr({in[1], in[2]}));
      require(attrs.getFloat("eps") >= 0, "layer_norm eps must be >= 0");
      return {in[0]};
    }
    case OpKind::CrossEntropy: return {crossEntropyType(in[0], in[1], attrs)};
    case OpKind::Attention:
      return {attentionType(in[0], in[1], in[2], in.size() == 4 ? &in[3] : nullptr, attrs, resultDType(in[0].dtype, declared, 0))};
    case OpKind::Dropout: {
      requireIntegerScalar(in[1], "the dropout seed");
      double rate = attrs.getFloat("rate");
      require(rate >= 0.0 && rate < 1.0, "dropout rate must be in [0, 1), got " + formatDouble(rate));
      return {in[0]};
    }
    case OpKind::GeluGrad: {
      requireSame(in[0], in[1], "gelu_grad's incoming gradient");
      const std::string& a = attrs.getStr("approx");
      require(a == "tanh" || a == "erf", "gelu approx must be \"tanh\" or \"erf\", got \"" + a + "\"");
      return {in[0]};
    }
    case OpKind::SoftmaxGrad:
    case OpKind::LogSoftmaxGrad: {
      requireSame(in[0], in[1], std::string(info.mnemonic) + "'s incoming gradient");
      require(in[0].rank() >= 1, std::string(info.mnemonic) + " needs rank >= 1");
      axisAttr(attrs, "axis", in[0].rank());
      return {in[0]};
    }
    case OpKind::LayerNormGrad: {
      require(in[0].rank() >= 1, "layer_norm_grad needs rank >= 1");
      TensorType p{in[0].dtype, {in[0].shape.back()}};
      requireSame(p, in[1], "layer_norm_grad gain");
      requireSame(in[0], in[2], "layer_norm_grad's incoming gradient");
      if (in.size() == 4) requireSame(in[0], in[3], "layer_norm_grad's addend");
      return {in[0], p, p};
    }
    case OpKind::AddLayerNorm: {
      require(in[0].rank() >= 1, "add_layer_norm needs rank >= 1");
      requireSame(in[0], in[1], "add_layer_norm's second addend");
      TensorType p{in[0].dtype, {in[0].shape.back()}};
      require(in[2] == p && in[3] == p, "add_layer_norm gain and bias must be " + p.str() + ", got " +
                                            typesStr({in[2], in[3]}));
      require(attrs.getFloat("eps") >= 0, "add_layer_norm eps must be >= 0");
      return {in[0], in[0]};
    }
    case OpKind::CrossEntropyGrad: {
      TensorType loss = crossEntropyType(in[0], in[1], attrs);
      requireSame(loss, in[2], "cross_entropy_grad's incoming gradient");
      return {in[0]};
    }
    case OpKind::CrossEntropyWithGrad: {
      TensorType loss = crossEntropyType(in[0], in[1], attrs);
      requireSame(loss, in[2], "cross_entropy_with_grad's incoming gradient");
      return {loss, in[0]};
    }
    case OpKind::AttentionGrad: {
      const TensorType* mask = in.size() == 5 ? &in[4] : nullptr;
      // bf16 q, k, v and incoming gradient may give f32 gradients (computed in f32).
      TensorType out = attentionType(in[0], in[1], in[2], mask, attrs, resultDType(in[0].dtype, declared, 0));
      out.dtype = in[0].dtype;
      requireSame(out, in[3], "attention_grad's incoming gradient");
      std::vector<TensorType> grads = {in[0], in[1], in[2]};
      for (size_t i = 0; i < 3; ++i) grads[i].dtype = resultDType(in[i].dtype, declared, i);
      return grads;
    }
    case OpKind::Fused: {
      auto e = FusedExpr::parse(attrs.getStr("expr"), int(in.size()));
      require(e.ok(), e.ok() ? "" : e.error().message);
      Shape s = in[0].shape;
      for (const auto& t : in) {
        require(t.dtype == in[0].dtype, "fused operands must share one dtype, got " + typesStr(in));
        auto b = broadcastShapes(s, t.shape);
        require(b.has_value(), "fused operands do not broadcast together: " + typesStr(in));
        s = *b;
      }
      return {TensorType{in[0].dtype, s}};
    }
    case OpKind::FusedSum: {
      TensorType whole = infer(OpKind::Fused, in, attrs, declared)[0];
      int64_t axis = attrs.getInt("axis");
      require(axis >= 0 && axis < whole.rank(), "fused_sum axis must be in [0, " + std::to_string(whole.rank()) + "), got " +
                                                    std::to_string(axis) + " for " + whole.str());
      return {TensorType{whole.dtype, Shape(whole.shape.begin(), whole.shape.begin() + axis)}};
    }
    case OpKind::AdamWUpdate: {
      for (size_t i = 1; i < 4; ++i) requireSame(in[0], in[i], "adamw_update operand " + std::to_string(i));
      TensorType scalar{in[0].dtype, {}};
      for (size_t i = 4; i < 7; ++i) requireSame(scalar, in[i], "adamw_update operand " + std::to_string(i));
      for (const char* b : {"beta1", "beta2"})
        require(attrs.getFloat(b) >= 0 && attrs.getFloat(b) < 1, std::string("adamw_update ") + b + " must be in [0, 1)");
      require(attrs.getFloat("eps") > 0, "adamw_update eps must be > 0");
      return {in[0], in[0], in[0]};
    }
    case OpKind::AdamWGroup: {
      require((in.size() - 3) % 5 == 0, "adamw_group takes lr, t, gscale and 5 operands per parameter (p, g, m, v, decay), got " +
                                            std::to_string(in.size()) + " operands");
      TensorType scalar{in[0].dtype, {}};
      for (size_t i = 0; i < 3; ++i) requireSame(scalar, in[i], "adamw_group operand " + std::to_string(i));
      std::vector<TensorType> out;
      for (size_t at = 3; at < in.size(); at += 5) {
        for (size_t i = 1; i < 4; ++i) requireSame(in[at], in[at + i], "adamw_group operand " + std::to_string(at + i));
        requireSame(scalar, in[at + 4], "adamw_group operand " + std::to_string(at + 4));
        out.insert(out.end(), {in[at], in[at], in[at]});
      }
      for (const char* b : {"beta1", "beta2"})
        require(attrs.getFloat(b) >= 0 && attrs.getFloat(b) < 1, std::string("adamw_group ") + b + " must be in [0, 1)");
      require(attrs.getFloat("eps") > 0, "adamw_group eps must be > 0");
      return out;
    }
    case OpKind::AllReduce: {
      const std::string& r = attrs.getStr("reduce");
      require(r == "sum" || r == "mean", "all_reduce reduce must be sum or mean, got '" + r + "'");
      require(isFloat(in[0].dtype), "all_reduce needs a floating point operand, got " + in[0].str());
      return {in[0]};
    }
    case OpKind::StateRead: return {declaredOne(declared)};
    case OpKind::StateAssign: return {};
  }
  throw Fail{"unknown op kind"};
}

}  // namespace

InferResult inferResultTypes(OpKind kind, const std::vector<TensorType>& operands,
                             const Attrs& attrs, const std::vector<TensorType>& declared) {
  try {
    return {infer(kind, operands, attrs, declared), {}};
  } catch (const Fail& f) {
    return {{}, f.msg};
  }
}

}  // namespace kiln
