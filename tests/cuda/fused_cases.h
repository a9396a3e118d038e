// The fused-op modules both cuda test programs use: every primitive over broadcast patterns, a
// fused_sum, and a GPT train step after the cpu target's passes (the plans a trainer would have).
// The reference results come from the interpreter (eval/), so that the GPU tests build with the
// IR and the interpreter alone.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "eval/tensor.h"
#include "ir/fused_expr.h"
#include "ir/module.h"

namespace kiln::test {

struct FusedCase {
  std::string label;
  Module module;               // one function f
  std::vector<TensorType> inputs;
  bool positive = false;       // inputs must be > 0 (log, sqrt, rsqrt, pow)
  double tol = 2e-5;
};

std::vector<FusedCase> fusedCases();
// gpt-tiny's module after every pass of the cpu pipeline (Inputs/gpt_tiny_train_step.kir).
Module fusedGptStep();
ref::Tensor randomInput(const TensorType& type, bool positive, std::mt19937& rng);
// The reference interpreter's results of `fn` of `m` on `inputs` (no state).
std::vector<ref::Tensor> referenceResults(const Module& m, const std::string& fn, const std::vector<ref::Tensor>& inputs);
// Every element within `tol` of the reference, relative to the larger of 1 and the reference
// value (NaN matches NaN); the first few differences and their count are reported.
void checkClose(const ref::Tensor& got, const ref::Tensor& want, double tol, const std::string& what);

}  // namespace kiln::test
