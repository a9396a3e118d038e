// Memory planning for one function: liveness intervals over the op order and offsets in one
// arena, reusing the space of values that are dead. State lives outside the arena and is
// counted by category. (The reference device does not run from the arena; the CPU backend will.)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ir/module.h"

namespace kiln {

struct MemoryPlan {
  int64_t arenaBytes = 0;  // peak of the value arena (activations, gradients, temporaries)
  std::map<const Value*, int64_t> offsets;
  // Results written straight into the buffer of the state they replace (no arena space, and
  // their state_assign costs nothing): see inPlaceStateUpdates.
  std::map<const Value*, std::string> inState;
  // Bytes by category: parameters, optimizer state, other state, activations, gradients.
  std::map<std::string, int64_t> categories;
  int64_t totalBytes() const;
  std::string summary() const;  // one line per category
};

// `elementBytes` > 0 sizes every element that wide (a device storing all values as f32 uses 4).
MemoryPlan planMemory(const Module& m, const Function& f, int elementBytes = 0);
// Results an op may write into the state buffer they replace: an adamw_update (or adamw_group)
// result (p', m', v') assigned to the state its matching operand (p, m, v) was read from, when
// nothing reads that state after the update. A state_assign or a function output of the old
// value counts as a read at the end (assignments commit when the call returns). Elementwise,
// so element i is read before it is written.
std::map<const Value*, std::string> inPlaceStateUpdates(const Function& f);
// Query rows per block of the cpu device's attention (runtime/cpu/attention_lowering.h): T
// queries against S keys run in blocks of this many rows, and one block's scores [B*H, rows,
// keys] (with their gradient for attention_grad) are the op's workspace.
int64_t attentionBlockRows(int64_t T);
// The cpu device copies a matmul's right operand into oneDNN's blocked layout before the
// product when the result has at least this many rows (batch dims folded in): the copy then
// costs a few percent of the product, and the blocked kernel runs 5-30% faster than on a plain
// [K, N] operand. The copy is workspace (the largest one, since ops run one at a time).
inline constexpr int64_t kPackedMatmulMinRows = 256;
// Whether the cpu device packs this matmul's (or matmul_bias's) right operand: enough result
// rows, and one right operand for the whole batch.
bool packsMatmulOperand(const Op& op);
// The value whose storage `v` views: through reshapes and contiguous slices (which never copy),
// else v itself; `viewOffset` is where v starts in it, in elements.
const Value* aliasOf(const Value* v);
int64_t viewOffset(const Value* v);
// Whether a slice takes one contiguous run of its operand (unit strides; dims before the first
// cut have extent 1, dims after it are whole), so its result can be a view.
bool isContiguousSlice(const Op& op);
int64_t sliceOffset(const Op& slice);  // its first element's position in the operand
int64_t typeBytes(const TensorType& t);

}  // namespace kiln
