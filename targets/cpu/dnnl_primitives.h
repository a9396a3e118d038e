// The ops the cpu device runs as oneDNN primitives other than attention: matmul and
// matmul_bias (bias, residual and activation post-ops; the right operand packed into oneDNN's
// blocked layout for large products), softmax and log_softmax and their gradients
// (softmax_v2). Each primitive is created once, when a function is first prepared.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <optional>
#include <vector>

#include "ir/module.h"

namespace kiln {

// A matmul as a oneDNN primitive: logical a [..., M, K] and b [..., K, N] with strides that
// express the transposes; batch dims padded with 1s (oneDNN broadcasts them).
struct MatmulPrimitive {
  // As the values are stored: f32, or bf16 (mixed precision; see bf16_storage.h) for a and b.
  dnnl::memory::desc a, b, c, bias, residual;  // bias, residual: matmul_bias only
  bool hasBias = false, hasResidual = false;
  dnnl::matmul prim;
  // b copied into oneDNN's blocked layout before each product (see packsMatmulOperand).
  bool packs = false;
  dnnl::memory::desc packed;
  dnnl::reorder pack;
};

// Throws dnnl::error for shapes oneDNN does not take, and for operand types it is not given here
// (bf16 mixed with f32, a bf16 result): the device then runs the shared kernel.
MatmulPrimitive makeMatmul(const Op& op, const dnnl::engine& eng);
// Runs it; `packBuffer` holds packed.get_size() bytes when it packs.
void runMatmul(const MatmulPrimitive& p, const std::vector<float*>& operands, float* result, float* packBuffer,
               const dnnl::engine& eng, dnnl::stream& strm);

// softmax / log_softmax (src -> dst) or their gradients ((y, g) -> dx) along one axis.
struct SoftmaxPrimitive {
  dnnl::memory::desc md;  // every operand and the result: the op's dense shape
  bool backward = false;
  dnnl::primitive prim;
};

// For the four softmax kinds with a floating-point (stored as f32), non-empty operand; throws dnnl::error like makeMatmul.
std::optional<SoftmaxPrimitive> makeSoftmax(const Op& op, const dnnl::engine& eng);
void runSoftmax(const SoftmaxPrimitive& p, const std::vector<float*>& operands, float* result, const dnnl::engine& eng,
                dnnl::stream& strm);

}  // namespace kiln
