// The cpu device's own tuning rules, shared by its two halves: the compile half sizes the
// workspace from them (cpu_target.cpp), the run half follows them (attention_lowering,
// dnnl_primitives). Kept in one place so the plan and the device never disagree.
#pragma once

#include <cstdint>

#include "ir/module.h"

namespace kiln {

// Query rows per block of attention (attention_lowering.h): T queries against S keys run in
// blocks of this many rows, and one block's scores [B*H, rows, keys] (with their gradient for
// attention_grad) are the op's workspace.
int64_t attentionBlockRows(int64_t T);
// A matmul's right operand is copied into oneDNN's blocked layout before the product when the
// result has at least this many rows (batch dims folded in): the copy then costs a few percent
// of the product, and the blocked kernel runs 5-30% faster than on a plain [K, N] operand. The
// copy is workspace (the largest one, since ops run one at a time).
inline constexpr int64_t kPackedMatmulMinRows = 256;
// Whether the device packs this matmul's (or matmul_bias's) right operand: enough result rows,
// and one right operand for the whole batch.
bool packsMatmulOperand(const Op& op);
// Scratch bytes outside the arena to run `f` with values `elementBytes` wide: one block of
// attention scores of the largest attention op (its gradient also holds their gradient), shared
// by every attention op in turn, plus the largest packed matmul operand, plus the bf16 inputs of
// the largest attention widened to f32 (mixed precision).
int64_t cpuWorkspaceBytes(const Function& f, int elementBytes);

}  // namespace kiln
