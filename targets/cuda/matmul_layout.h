// How a matmul or matmul_bias of the IR (row-major, numpy batch broadcasting) becomes one
// cuBLASLt call, decided on the host from the op alone (unit-tested everywhere). cuBLASLt is
// column-major: a row-major C = A.B is the column-major C^T = B^T.A^T, so B's storage is
// cuBLASLt's A and A's storage its B, and no operand is copied. A right operand shared by the
// whole batch folds the batch into the rows (one GEMM); otherwise each operand's batch is either
// whole (a stride of one matrix) or broadcast (stride 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ir/module.h"

namespace kiln::cuda {

// One column-major operand as cuBLASLt sees it.
struct LtMatrix {
  int64_t rows = 0, cols = 0, ld = 0;
  int64_t batchStride = 0;  // elements between batch members (0: the same matrix for all)
  bool transposed = false;  // op(X) = X^T
};

enum class Epilogue { None, Bias, BiasRelu, BiasGeluTanh };

struct LtMatmul {
  LtMatrix a, b, c;          // a: the IR's right operand, b: its left, c: the result (and residual)
  int64_t batch = 1;
  Epilogue epilogue = Epilogue::None;
  bool residual = false;     // beta = 1 with the residual as C
  bool geluErfAfter = false; // gelu_erf: bias in the epilogue, the activation as its own kernel
  bool bf16 = false;         // a and b stored as bf16 (mixed precision), accumulated and written in f32
  int64_t m = 0, n = 0, k = 0;  // the IR's: result rows (all batch rows when folded), columns, depth
};

// The plan of `op` (matmul or matmul_bias), or why cuBLASLt cannot take it (the device runs it
// elsewhere).
std::optional<LtMatmul> planLtMatmul(const Op& op, std::string* whyNot = nullptr);

}  // namespace kiln::cuda
