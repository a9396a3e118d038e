// Vector-Jacobian products, one rule per op kind (a `switch` with no default: a new op fails
// to build here until it has a rule or says why it has none). A rule reads g, the gradient of
// the op's result, and accumulates into each operand that wants one; accumulate() undoes
// broadcasting. Integer and bool operands (token ids, labels, masks, seeds) are skipped by
// type. softmax, log_softmax, layer_norm, cross_entropy, gelu and attention use dedicated
// backward ops rather than decompositions, as a fast backend will want them.
#include "compiler/autodiff/gradient_builder.h"

namespace kiln {

Status emitVjp(GradientBuilder& gb, const Op& op) {
  Builder& b = gb.b;
  const auto& x = op.operands;
  Value* y = op.results.empty() ? nullptr : op.result();
  Value* g = y ? gb.gradientOf(y) : nullptr;
  auto acc = [&](size_t i, Value* grad) { gb.accumulate(x[i], grad); };
  auto wants = [&](size_t i) { return i < x.size() && gb.wants(x[i]); };
  auto zero = [&]() { return gb.scalarLike(0.0, y); };
  auto fail = [&](const std::string& why) {
    return Status(makeError(op.textLoc.known() ? op.textLoc : op.loc, std::string(mnemonic(op.kind)) + ": " + why));
  };

  switch (op.kind) {
    // Sources: no differentiable operands.
    case OpKind::Constant:
    case OpKind::Iota:
    case OpKind::RandomUniform:
    case OpKind::RandomNormal:
    case OpKind::StateRead:
      return okStatus();

    case OpKind::Neg: acc(0, b.neg(g)); return okStatus();
    case OpKind::Abs:  // sign(x) * g, with 0 at x == 0 as in PyTorch
      acc(0, b.select(b.compare(OpKind::Gt, x[0], zero()), g,
                      b.select(b.compare(OpKind::Lt, x[0], zero()), b.neg(g), zero())));
      return okStatus();
    case OpKind::Exp: acc(0, b.mul(g, y)); return okStatus();
    case OpKind::Log: acc(0, b.div(g, x[0])); return okStatus();
    case OpKind::Sqrt: acc(0, b.div(b.mul(g, gb.scalarLike(0.5, y)), y)); return okStatus();
    case OpKind::Rsqrt:  // d x^-1/2 = -1/2 y^3
      acc(0, b.mul(g, b.mul(gb.scalarLike(-0.5, y), b.mul(y, b.mul(y, y)))));
      return okStatus();
    case OpKind::Tanh: acc(0, b.mul(g, b.sub(gb.scalarLike(1.0, y), b.mul(y, y)))); return okStatus();
    case OpKind::Sin: acc(0, b.mul(g, b.cos(x[0]))); return okStatus();
    case OpKind::Cos: acc(0, b.neg(b.mul(g, b.sin(x[0])))); return okStatus();
    case OpKind::Sigmoid: acc(0, b.mul(g, b.mul(y, b.sub(gb.scalarLike(1.0, y), y)))); return okStatus();
    case OpKind::Relu: acc(0, b.select(b.compare(OpKind::Gt, x[0], zero()), g, zero())); return okStatus();
    case OpKind::Gelu: {
      Attrs a;
      a.set("approx", op.attrs.getStr("approx"));
      acc(0, b.create1(OpKind::GeluGrad, {x[0], g}, a));
      return okStatus();
    }
    case OpKind::Cast:
      if (wants(0) && isFloat(y->type.dtype)) acc(0, b.cast(g, x[0]->type.dtype));
      return okStatus();

    case OpKind::Add: acc(0, g); acc(1, g); return okStatus();
    case OpKind::Sub: acc(0, g); if (wants(1)) acc(1, b.neg(g)); return okStatus();
    case OpKind::Mul:
      if (wants(0)) acc(0, b.mul(g, x[1]));
      if (wants(1)) acc(1, b.mul(g, x[0]));
      return okStatus();
    case OpKind::Div:
      if (wants(0)) acc(0, b.div(g, x[1]));
      if (wants(1)) acc(1, b.neg(b.mul(g, b.div(y, x[1]))));
      return okStatus();
    case OpKind::Max:
    case OpKind::Min: {  // ties split the gradient evenly, as torch.maximum/minimum do
      Value* first = b.compare(op.kind == OpKind::Max ? OpKind::Gt : OpKind::Lt, x[0], x[1]);
      Value* tie = b.compare(OpKind::Eq, x[0], x[1]);
      Value* half = b.mul(g, gb.scalarLike(0.5, y));
      if (wants(0)) acc(0, b.select(first, g, b.select(tie, half, zero())));
      if (wants(1)) acc(1, b.select(first, zero(), b.select(tie, half, g)));
      return okStatus();
    }
    case OpKind::Pow:  // d a^b = b a^(b-1) da + a^b ln(a) db
      if (wants(0)) acc(0, b.mul(g, b.mul(x[1], b.pow(x[0], b.sub(x[1], gb.scalarLike(1.0, y))))));
      if (wants(1)) acc(1, b.mul(g, b.mul(y, b.log(x[0]))));
      return okStatus();
    // Comparisons have bool results: nothing flows back.
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      return okStatus();
    case OpKind::Select:
      if (wants(1)) acc(1, b.select(x[0], g, zero()));
      if (wants(2)) acc(2, b.select(x[0], zero(), g));
      return okStatus();

    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax: {
      const Shape& xs = x[0]->type.shape;
      Shape kept = xs;  // y's shape with the reduced axes kept as 1
      for (int64_t a : op.attrs.getInts("axes")) kept[size_t(a < 0 ? a + int64_t(xs.size()) : a)] = 1;
      Value* gk = b.reshape(g, kept);
      if (op.kind == OpKind::ReduceMax) {  // ties share the gradient evenly (torch.amax)
        Value* hit = b.cast(b.compare(OpKind::Eq, x[0], b.reshape(y, kept)), y->type.dtype);
        Value* count = b.reduceSum(hit, op.attrs.getInts("axes"), true);
        acc(0, b.mul(b.div(hit, count), gk));
        return okStatus();
      }
      Value* spread = b.broadcastTo(gk, xs);
      if (op.kind == OpKind::ReduceMean) {
        double count = double(x[0]->type.numElements()) / double(std::max<int64_t>(y->type.numElements(), 1));
        spread = b.div(spread, gb.scalarLike(count, y));
      }
      acc(0, spread);
      return okStatus();
    }

    case OpKind::Reshape: acc(0, b.reshape(g, x[0]->type.shape)); return okStatus();
    case OpKind::Transpose: {
      const auto& perm = op.attrs.getInts("perm");
      std::vector<int64_t> inverse(perm.size());
      for (size_t i = 0; i < perm.size(); ++i) inverse[size_t(perm[i])] = int64_t(i);
      acc(0, b.transpose(g, inverse));
      return okStatus();
    }
    case OpKind::BroadcastTo: acc(0, g); return okStatus();
    case OpKind::Slice: {  // scatter back: pad with the stride as interior padding
      const Shape& xs = x[0]->type.shape;
      const Shape& ys = y->type.shape;
      const auto& start = op.attrs.getInts("start");
      const auto& strideAttr = op.attrs.getInts("stride");
      if (y->type.numElements() == 0) return okStatus();
      std::vector<int64_t> low, high, interior;
      for (size_t d = 0; d < xs.size(); ++d) {
        int64_t stride = strideAttr.empty() ? 1 : strideAttr[d];
        low.push_back(start[d]);
        interior.push_back(stride - 1);
        high.push_back(xs[d] - (start[d] + (ys[d] - 1) * stride + 1));
      }
      acc(0, b.pad(g, low, high, 0.0, interior));
      return okStatus();
    }
    case OpKind::Concat: {
      int axis = int(op.attrs.getInt("axis"));
      if (axis < 0) axis += y->type.rank();
      int64_t offset = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const Shape& s = x[i]->type.shape;
        if (wants(i)) {
          std::vector<int64_t> start(s.size(), 0), limit = y->type.shape;
          start[size_t(axis)] = offset;
          limit[size_t(axis)] = offset + s[size_t(axis)];
          acc(i, b.slice(g, start, limit));
        }
        offset += s[size_t(axis)];
      }
      return okStatus();
    }
    case OpKind::Pad: {
      const Shape& xs = x[0]->type.shape;
      if (x[0]->type.numElements() == 0) return okStatus();
      const auto& low = op.attrs.getInts("low");
      const auto& interior = op.attrs.getInts("interior");
      std::vector<int64_t> start, limit, stride;
      for (size_t d = 0; d < xs.size(); ++d) {
        int64_t step = (interior.empty() ? 0 : interior[d]) + 1;
        start.push_back(low[d]);
        limit.push_back(low[d] + (xs[d] - 1) * step + 1);
        stride.push_back(step);
      }
      acc(0, b.slice(g, start, limit, stride));
      return okStatus();
    }

    case OpKind::Gather:
      if (wants(0)) acc(0, b.scatterAdd(gb.zerosLike(x[0]), x[1], g, op.attrs.getInt("axis")));
      return okStatus();
    case OpKind::ScatterAdd:
      if (wants(0)) acc(0, g);
      if (wants(2)) acc(2, b.gather(g, x[1], op.attrs.getInt("axis")));
      return okStatus();

    case OpKind::Matmul: {  // y = op(a) op(b): d op(a) = g op(b)^T, d op(b) = op(a)^T g
      bool ta = op.attrs.getBool("transpose_a"), tb = op.attrs.getBool("transpose_b");
      if (wants(0)) acc(0, ta ? b.matmul(x[1], g, tb, true) : b.matmul(g, x[1], false, !tb));
      if (wants(1) && !ta && x[1]->type.rank() == 2 && x[0]->type.rank() > 2) {
        // A weight shared by every batch row: one matmul over the flattened rows, not a batch
        // of per-row products summed afterwards (8x less memory, one big GEMM).
        const Shape& as = x[0]->type.shape;
        int64_t rows = x[0]->type.numElements() / as.back();
        Value* a2 = b.reshape(x[0], {rows, as.back()});
        Value* g2 = b.reshape(g, {rows, g->type.shape.back()});
        acc(1, tb ? b.matmul(g2, a2, true, false) : b.matmul(a2, g2, true, false));
      } else if (wants(1)) {
        acc(1, tb ? b.matmul(g, x[0], true, ta) : b.matmul(x[0], g, !ta, false));
      }
      return okStatus();
    }

    case OpKind::Softmax:
    case OpKind::LogSoftmax: {
      Attrs a;
      a.set("axis", op.attrs.getInt("axis"));
      acc(0, b.create1(op.kind == OpKind::Softmax ? OpKind::SoftmaxGrad : OpKind::LogSoftmaxGrad, {y, g}, a));
      return okStatus();
    }
    case OpKind::LayerNorm: {
      Attrs a;
      a.set("eps", op.attrs.getFloat("eps"));
      Op* lg = b.create(OpKind::LayerNormGrad, {x[0], x[1], g}, a);
      acc(0, lg->result(0));
      acc(1, lg->result(1));
      acc(2, lg->result(2));
      return okStatus();
    }
    case OpKind::CrossEntropy: {
      Attrs a;
      a.set("ignore_index", op.attrs.getInt("ignore_index"));
      a.set("reduction", op.attrs.getStr("reduction"));
      acc(0, b.create1(OpKind::CrossEntropyGrad, {x[0], x[1], g}, a));
      return okStatus();
    }
    case OpKind::Attention: {
      if (wants(3)) return fail("the gradient with respect to an attention mask is not supported");
      Attrs a;
      a.set("causal", op.attrs.getBool("causal"));
      a.set("scale", op.attrs.getFloat("scale"));
      std::vector<Value*> operands{x[0], x[1], x[2], g};
      if (x.size() == 4) operands.push_back(x[3]);
      Op* ag = b.create(OpKind::AttentionGrad, operands, a);
      acc(0, ag->result(0));
      acc(1, ag->result(1));
      acc(2, ag->result(2));
      return okStatus();
    }
    case OpKind::Dropout:  // the same mask and scale: dropout of g with the same seed
      acc(0, b.dropout(g, x[1], op.attrs.getFloat("rate")));
      return okStatus();

    // Backward ops are not differentiated again: second-order gradients are not supported.
    case OpKind::GeluGrad:
    case OpKind::SoftmaxGrad:
    case OpKind::LogSoftmaxGrad:
    case OpKind::LayerNormGrad:
    case OpKind::CrossEntropyGrad:
    case OpKind::AttentionGrad:
      return fail("second-order gradients are not supported");
    case OpKind::AdamWUpdate:
    case OpKind::AdamWGroup:
      return fail("an optimizer update is not differentiable");
    case OpKind::AllReduce:  // inserted after autodiff, on the gradients
      return fail("an all_reduce is not differentiable");
    case OpKind::Fused:
    case OpKind::FusedSum:
    case OpKind::MatmulBias:
    case OpKind::AddLayerNorm:
    case OpKind::CrossEntropyWithGrad:
      return fail("fused ops are made after autodiff and are not differentiable");
    // No results: nothing can flow back through a state assignment.
    case OpKind::StateAssign:
      return okStatus();
  }
  return fail("no gradient rule");
}

}  // namespace kiln
