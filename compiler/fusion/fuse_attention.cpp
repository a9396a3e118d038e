// Attention written out as ops, softmax(q k^T * c [+ mask]) v, becomes one attention op: the
// scale, the mask and the softmax are applied to each block of scores as it is computed, and
// on the cpu device the [B, H, T, S] scores are never stored whole (forward or, after autodiff,
// backward). Runs before autodiff so the gradient is attention_grad.
//
// Algorithm: for each matmul p v whose left operand p is a softmax over the last axis of
// [B, H, T, S] scores used only there, walk up the chain: an optional add of a mask (an operand
// broadcasting to the scores), an optional multiply by a scalar constant c, and a matmul
// q k^T (transpose_b, q [B, H, T, D], k [B, H, S, D]); every intermediate value must have that
// one use. An attention(q, k, v [, mask]) {scale = c} (scale 1 when there is no multiply)
// replaces the product at its position. Rows that no key may see (a mask of -inf across a row)
// give 0 where the written-out softmax gives NaN; that is the only difference.
#include <unordered_map>
#include <unordered_set>

#include "compiler/pass.h"
#include "ir/shape_inference.h"

namespace kiln {
namespace {

class FuseAttention : public FunctionPass {
 public:
  std::string name() const override { return "fuse-attention"; }
  std::string description() const override { return "softmax(q k^T * scale + mask) v as one attention op"; }

 private:
  struct Match {
    Value *q, *k, *mask = nullptr;
    double scale = 1.0;
    std::vector<const Op*> ops;  // the ops it replaces, besides the final product
  };

  bool runOn(Function& f) override {
    std::unordered_map<const Value*, int> uses = countUses(f);
    std::unordered_set<const Op*> replaced;
    for (size_t i = 0; i < f.ops.size(); ++i) {
      Op* pv = f.ops[i].get();
      auto m = match(pv, uses);
      if (!m) continue;
      std::vector<Value*> operands{m->q, m->k, pv->operands[1]};
      if (m->mask) operands.push_back(m->mask);
      Attrs attrs;
      attrs.set("causal", false);
      attrs.set("scale", m->scale);
      Op* att = f.insertOp(i, OpKind::Attention, operands, {pv->result()->type}, attrs);
      att->name = pv->name;
      att->loc = pv->loc;
      att->result()->name = pv->result()->name;
      f.replaceAllUses(pv->result(), att->result());
      replaced.insert(pv);
      replaced.insert(m->ops.begin(), m->ops.end());
      ++i;
    }
    f.eraseOpsIf([&](const Op& op) { return replaced.count(&op) != 0; });
    return !replaced.empty();
  }

  static std::optional<Match> match(const Op* pv, std::unordered_map<const Value*, int>& uses) {
    if (pv->kind != OpKind::Matmul || pv->attrs.getBool("transpose_a") || pv->attrs.getBool("transpose_b")) return std::nullopt;
    const TensorType& scores = pv->operands[0]->type;
    if (scores.rank() != 4 || !isFloat(scores.dtype) || pv->operands[1]->type.rank() != 4) return std::nullopt;
    Match m;
    auto single = [&](const Value* v, OpKind kind) -> const Op* {
      return v->def && v->def->kind == kind && uses[v] == 1 && v->type == scores ? v->def : nullptr;
    };
    const Op* sm = single(pv->operands[0], OpKind::Softmax);
    if (!sm || (sm->attrs.getInt("axis") != -1 && sm->attrs.getInt("axis") != 3)) return std::nullopt;
    m.ops.push_back(sm);
    const Value* x = sm->operands[0];
    if (const Op* add = single(x, OpKind::Add)) {
      // The scores side is the scaled product (or the product itself); the other is the mask.
      int side = -1;
      for (int s = 0; s < 2; ++s)
        if (single(add->operands[size_t(s)], OpKind::Mul) || single(add->operands[size_t(s)], OpKind::Matmul)) side = s;
      if (side < 0) return std::nullopt;
      m.mask = add->operands[size_t(1 - side)];
      if (m.mask->type.dtype != scores.dtype) return std::nullopt;
      m.ops.push_back(add);
      x = add->operands[size_t(side)];
    }
    if (const Op* mul = single(x, OpKind::Mul)) {
      int side = -1;
      for (int s = 0; s < 2; ++s)
        if (const Op* c = mul->operands[size_t(s)]->def; c && c->kind == OpKind::Constant && c->result()->type.shape.empty())
          side = s;
      if (side < 0) return std::nullopt;
      m.scale = mul->operands[size_t(side)]->def->attrs.getNumbers("value")[0];
      if (m.scale == 0) return std::nullopt;  // attention reads scale 0 as 1/sqrt(D)
      m.ops.push_back(mul);
      x = mul->operands[size_t(1 - side)];
    }
    const Op* qk = single(x, OpKind::Matmul);
    if (!qk || qk->attrs.getBool("transpose_a") || !qk->attrs.getBool("transpose_b")) return std::nullopt;
    m.q = qk->operands[0];
    m.k = qk->operands[1];
    const int64_t B = scores.shape[0], H = scores.shape[1], T = scores.shape[2], S = scores.shape[3];
    if (m.q->type.rank() != 4) return std::nullopt;
    const int64_t D = m.q->type.shape[3];
    if (m.q->type != TensorType{scores.dtype, {B, H, T, D}} || m.k->type != TensorType{scores.dtype, {B, H, S, D}})
      return std::nullopt;
    const TensorType& v = pv->operands[1]->type;
    if (v.shape[0] != B || v.shape[1] != H) return std::nullopt;  // no broadcast v
    if (m.mask && !broadcastsTo(m.mask->type.shape, scores.shape)) return std::nullopt;
    m.ops.push_back(qk);
    return m;
  }
};

}  // namespace

std::unique_ptr<Pass> createFuseAttention() { return std::make_unique<FuseAttention>(); }

}  // namespace kiln
