// What runs each IR op on the cuda device, decided on the host from the op alone (no GPU needed,
// so it is unit-tested everywhere and `kiln info` can say what a trainer will do): a cuBLASLt
// matmul, a hand-written or generated kernel with its shapes, a binding (views, state), a
// constant uploaded once, or, for an op no kernel covers yet, the shared f32 kernel on the host
// (operands copied out and results back: correct, slow, and counted).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ir/module.h"
#include "targets/cuda/kernels/cuda_kernels.h"
#include "targets/cuda/matmul_layout.h"

namespace kiln::cuda {

enum class StepKind {
  Assign, View, StateRead, AllReduce,  // bindings: no work
  Constant,                            // no operands: computed once, uploaded, kept
  Matmul, Fused, LayerNorm, AddLayerNorm, LayerNormGrad, CrossEntropyWithGrad, AdamWGroup, Attention, AttentionGrad,
  RoundBf16, WidenBf16,               // casts between f32 and bf16 storage (mixed precision)
  StridedCopy, Concat, Gather, ScatterAdd, Reduce, Elementwise, Pad, Cast, CrossEntropy, CrossEntropyGrad, Softmax, SoftmaxGrad,
  Host,                                // the shared kernel on the host
};

struct OpLowering {
  StepKind kind = StepKind::Host;
  std::string why;                      // Host: what keeps it off the GPU
  std::optional<LtMatmul> matmul;       // Matmul
  int64_t rows = 0, cols = 0;           // LayerNorm*, CrossEntropyWithGrad: rows of `cols`
  StridedShape strided;                 // StridedCopy: over the result; Reduce: kept dims
  StridedShape reduced;                 // Reduce: the reduced dims
  int64_t base = 0;                     // StridedCopy: first element read
  int64_t perOutput = 0;                // Reduce
  ReduceMode reduceMode = ReduceMode::Sum;
  int64_t outer = 0, len = 0, inner = 0;  // Softmax*: the axis as the middle of [outer, len, inner]
  PadShape pad;                         // Pad
  CastTo castTo = CastTo::Float;        // Cast
  IndexedShape indexed;                 // Gather, ScatterAdd
  int concatAxis = 0;                   // Concat
  AttentionShape attention;             // Attention*: everything but the mask pointer
  bool widenBf16 = false;               // Attention*: the product operands are bf16, widened to f32 first
  ElementwiseCode code = ElementwiseCode::Add;  // Elementwise
  BroadcastShape broadcast;                     // Elementwise
};

// `fusedKernel`: whether the compile half generated a kernel for this fused op.
OpLowering lowerOp(const Op& op, bool fusedKernel);

// GPU memory the device needs outside the arena to run `f`: cuBLASLt's workspace, the largest
// kernel scratch (layer_norm_grad's partial sums, cross-entropy's rows, attention_grad's row
// statistics), the error flags.
inline constexpr int64_t kCublasLtWorkspaceBytes = int64_t(32) << 20;
int64_t scratchBytes(const Function& f);

// Ops of `m` that would run on the host, by kind: "reduce_max" -> 2 (kiln info, the compile log).
std::map<std::string, int> hostOps(const Module& m, const std::map<const Op*, bool>& fusedKernels);

}  // namespace kiln::cuda
