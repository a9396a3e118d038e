// The cuda target's hand-written kernels, callable from host C++ without CUDA headers: device
// pointers in, launched on `stream` (a cudaStream_t, or null for the default stream), shapes as
// the IR ops have them (ir/ops.def). Each computes what the reference device computes for its op
// (eval/kernels), in f32 with f32 accumulation; tests/gpu checks them against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "targets/cuda/launch_config.h"

namespace kiln::cuda {

// layer_norm (residual == nullptr) or add_layer_norm (sum = x + residual, then its norm): rows of
// `cols`; y = (s - mean) * rstd * gain + bias.
void layerNorm(const float* x, const float* residual, const float* gain, const float* bias, float* sum, float* y,
               int64_t rows, int64_t cols, float eps, void* stream);

// layer_norm_grad: dx (+ addend when not null), dgain, dbias. `workspace` holds
// columnSumLaunch(rows, cols).workspaceFloats floats.
void layerNormGrad(const float* x, const float* gain, const float* g, const float* addend, float* dx, float* dgain,
                   float* dbias, float* workspace, int64_t rows, int64_t cols, float eps, void* stream);

// cross_entropy_with_grad, reduction "mean" or "sum": loss[0] and dlogits = scale *
// (softmax - onehot) per row, scale = g[0] / valid rows (mean) or g[0] (sum); ignored rows 0.
// `workspace` holds rows + 2 floats. A label out of range writes its row to *badRow (device
// int64, -1 when none) and that row's gradient is 0: the caller reads it and fails the step.
// Labels are stored as f32 like every value on the device (integers exact below 2^24).
// cross_entropy alone: dlogits and g null. cross_entropy_grad alone: `loss` may be scratch.
enum class Reduction { Mean, Sum, None };  // None: a loss per row, and g per row
void crossEntropyWithGrad(const float* logits, const float* labels, const float* g, float* loss, float* dlogits,
                          float* workspace, int64_t* badRow, int64_t rows, int64_t cols, int32_t ignoreIndex,
                          Reduction reduction, void* stream);

// adamw_group: every parameter's (p, g, m, v, decay) as device pointers, updated in place (p, m,
// v), the gradient scaled by *gscale; lr, t and gscale are device scalars so that a replayed graph
// reads each step's values. `params` and `chunks` are device arrays (adamwChunks on the host,
// copied once).
struct AdamWParam {
  float *p, *m, *v;
  const float* g;
  const float* decay;
};
void adamwGroup(const AdamWParam* params, const AdamWChunk* chunks, int64_t chunkCount, const float* lr, const float* t,
                const float* gscale, float beta1, float beta2, float eps, void* stream);

// attention (q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv] -> [B,H,T,Dv]) and attention_grad (dq, dk,
// dv from the incoming gradient g [B,H,T,Dv]), with the reference's semantics: scores q.k *
// scale plus an additive mask broadcast to [B,H,T,S] (maskStride: 0 along broadcast dims),
// causal rows see keys s <= t + (S - T), a row that sees no key gives 0. D and Dv at most
// kAttentionMaxHeadDim. attentionGrad's `workspace` holds 3 floats per query row.
struct AttentionShape {
  int64_t B = 0, H = 0, T = 0, S = 0, D = 0, Dv = 0;
  bool causal = false;
  float scale = 1.f;
  const float* mask = nullptr;
  int64_t maskStride[4] = {0, 0, 0, 0};
};
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& shape, void* stream);
void attentionGrad(const float* q, const float* k, const float* v, const float* g, float* dq, float* dk, float* dv,
                   float* workspace, const AttentionShape& shape, void* stream);

// A tensor walked in row-major order of `dims`, each index stepping `strides` elements of its
// source (at most 8 dims).
struct StridedShape {
  int rank = 0;
  int64_t dims[8] = {};
  int64_t strides[8] = {};
};
// out[i] = x[base + offset of i]: transpose, a strided slice, broadcast_to (stride 0).
void stridedCopy(const float* x, int64_t base, const StridedShape& shape, float* out, int64_t n, void* stream);
// One operand of a concat: `outer` chunks of `chunk` elements, each landing at `at` in a chunk
// of `outChunk` of the result.
void concatInto(const float* x, float* out, int64_t outer, int64_t chunk, int64_t outChunk, int64_t at, void* stream);

// gather / scatter_add along an axis: the table viewed as [outer, dim, inner], `count` indices
// (stored as f32, exact). An index out of range is skipped (gather writes 0) and the first one's
// position is left in *firstBad (device; ~0 when none): the caller reads it and fails the call.
struct IndexedShape {
  int64_t outer = 1, dim = 0, inner = 1, count = 0;
};
void gather(const float* table, const float* indices, float* out, const IndexedShape& shape, unsigned long long* firstBad,
            void* stream);
// scatter_add sorts the positions by destination (stably, CUB's radix sort) in `workspace` of
// scatterAddWorkspaceBytes; then each destination's updates are added in position order.
size_t scatterAddWorkspaceBytes(const IndexedShape& shape);
void scatterAdd(const float* target, const float* indices, const float* updates, float* out, const IndexedShape& shape,
                unsigned long long* firstBad, void* workspace, void* stream);

// reduce_sum, reduce_max, reduce_mean: output element i over the `perOutput` elements at
// kept-offset(i) + reduced-offset(r).
enum class ReduceMode { Sum, Max, Mean };
void reduce(const float* x, const StridedShape& kept, const StridedShape& reduced, float* out, int64_t n, int64_t perOutput,
            ReduceMode mode, void* stream);

// pad: output index o_d comes from input index (o_d - low_d) / step_d where that divides and
// lands inside (step = interior + 1), else it is `value`.
struct PadShape {
  int rank = 0;
  int64_t outDims[8] = {}, low[8] = {}, step[8] = {}, inDims[8] = {}, inStrides[8] = {};
};
void pad(const float* x, const PadShape& shape, float value, float* out, int64_t n, void* stream);

// cast between dtypes stored as f32 (the reference's roundToDType for them).
enum class CastTo { Float, Integer, Bool };
void cast(const float* x, float* out, int64_t n, CastTo to, void* stream);

// softmax / log_softmax along the middle dim of [outer, len, inner], and their gradients from
// the forward result y and the incoming g.
void softmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool logarithm, void* stream);
void softmaxGrad(const float* y, const float* g, float* dx, int64_t outer, int64_t len, int64_t inner, bool logarithm, void* stream);

// The comparisons, select, and arithmetic on values the fusion passes leave alone (integers,
// booleans: all stored as f32, exact below 2^24), with numpy broadcasting: operand k of the
// result's element at index (i0..) is at sum_d id * strides[k][d] (0 along its broadcast dims).
enum class ElementwiseCode { Eq, Ne, Lt, Le, Gt, Ge, Select, Add, Sub, Mul, Max, Min };
struct BroadcastShape {
  int rank = 0;
  int64_t dims[8] = {};
  int64_t strides[3][8] = {};
};
// b and c may be null for codes that take fewer operands; comparisons give 1 or 0.
void elementwise(ElementwiseCode code, const float* a, const float* b, const float* c, float* out, const BroadcastShape& shape,
                 int64_t n, void* stream);

// Mixed precision's casts: f32 to bf16 storage (round to nearest even, as the reference) and back.
void roundBf16(const float* x, uint16_t* out, int64_t n, void* stream);
void widenBf16(const uint16_t* x, float* out, int64_t n, void* stream);

// x = gelu(x) with erf (matmul_bias's gelu_erf, which cuBLASLt's epilogues lack).
void geluErfInPlace(float* x, int64_t n, void* stream);

// The last launch's error, or "" (cudaGetLastError as text).
std::string lastLaunchError();

}  // namespace kiln::cuda
