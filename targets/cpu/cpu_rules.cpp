#include "targets/cpu/cpu_rules.h"

#include <algorithm>

namespace kiln {

int64_t attentionBlockRows(int64_t T) { return std::min<int64_t>(T, 64); }

bool packsMatmulOperand(const Op& op) {
  const Shape& s = op.result()->type.shape;
  const Shape& b = op.operands[1]->type.shape;
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < s.size(); ++i) rows *= s[i];
  for (size_t i = 0; i + 2 < b.size(); ++i)
    if (b[i] != 1) return false;
  return rows >= kPackedMatmulMinRows && b.size() >= 2;
}

int64_t cpuWorkspaceBytes(const Function& f, int elementBytes) {
  int64_t scores = 0, packed = 0, widenedInputs = 0;
  for (const auto& op : f.ops) {
    if (op->kind == OpKind::Attention || op->kind == OpKind::AttentionGrad) {
      const Shape& q = op->operands[0]->type.shape;
      int64_t block = q[0] * q[1] * attentionBlockRows(q[2]) * op->operands[1]->type.shape[2];
      scores = std::max(scores, block * (op->kind == OpKind::AttentionGrad ? 2 : 1) * elementBytes);
    }
    if ((op->kind == OpKind::Matmul || op->kind == OpKind::MatmulBias) && packsMatmulOperand(*op)) {
      const Shape& b = op->operands[1]->type.shape;
      packed = std::max(packed, b[b.size() - 1] * b[b.size() - 2] * elementBytes);
    }
    // Attention computes in f32 on bf16 inputs widened into the workspace.
    if (op->kind == OpKind::Attention || op->kind == OpKind::AttentionGrad) {
      int64_t widened = 0;
      for (const Value* v : op->operands) widened += v->type.dtype == DType::BF16 ? v->type.numElements() * 4 : 0;
      widenedInputs = std::max(widenedInputs, widened);
    }
  }
  return scores + packed + widenedInputs;
}

}  // namespace kiln
