#include "ir/cost_model.h"

namespace kiln {

double opFlops(const Op& op) {
  if (op.kind == OpKind::Matmul || op.kind == OpKind::MatmulBias) {
    const auto& a = op.operands[0]->type.shape;
    int64_t k = a[a.size() - (op.attrs.getBool("transpose_a") ? 2 : 1)];
    return 2.0 * double(op.result()->type.numElements()) * double(k);
  }
  if (op.kind == OpKind::Attention || op.kind == OpKind::AttentionGrad) {
    const auto& q = op.operands[0]->type.shape;
    double s = double(op.operands[1]->type.shape[2]);
    double dv = double(op.operands[2]->type.shape[3]);
    double forward = 2.0 * double(q[0] * q[1] * q[2]) * s * (double(q[3]) + dv);
    return op.kind == OpKind::Attention ? forward : 2 * forward;
  }
  return 0;
}

double countFlops(const Function& f) {
  double flops = 0;
  for (const auto& op : f.ops) flops += opFlops(*op);
  return flops;
}

int64_t countParameters(const Module& m) {
  int64_t n = 0;
  for (const auto& s : m.states)
    if (s.trainable) n += s.type.numElements();
  return n;
}

}  // namespace kiln
