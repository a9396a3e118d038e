// Finite-difference gradient checks on the reference device, in f64.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "ir/builder.h"
#include "ir/module.h"
#include "eval/tensor.h"

namespace kiln::test {

struct GradCase {
  std::string label;
  std::vector<ref::Tensor> inputs;  // floating point inputs are differentiated
  // Builds the function's result from its parameters (one per input).
  std::function<Value*(Builder&, const std::vector<Value*>&)> forward;
};

struct GradCheckResult {
  double worstRelativeError = 0;
  size_t checkedElements = 0;
  std::set<OpKind> forwardKinds;  // op kinds in the forward graph
};

// loss = sum(forward(...) * W) with a fixed random W; compares autodiff's gradient for every
// floating point input element with fourth-order central differences (step h). `maxElements` > 0 checks
// a deterministic sample of that many elements per input instead of all.
GradCheckResult checkGradients(const GradCase& c, double h = 1e-4, size_t maxElements = 0);

// The case as a module: its forward result weighted into a scalar `loss` (fixed random weights),
// and with `gradients`, autodiff's gradient of the loss for every floating point input.
Module caseModule(const GradCase& c, bool gradients);

// Whole models: differentiates m's first function (scalar output `loss`) with respect to every
// trainable state it reads and CHECKs about `samples` evenly spaced elements of each gradient
// against fourth-order central differences of the loss (step 1e-4, f64, reference device).
struct ModelGradCheck {
  size_t parameters = 0, checked = 0;  // gradients compared, elements compared
  double worst = 0;                    // worst relative error
};
ModelGradCheck checkModelGradients(const Module& m, const std::vector<ref::Tensor>& inputs, int64_t samples,
                                   double tolerance = 1e-6);

// Error measure: |a - b| / max(|a|, |b|, floor), so values near 0 are compared absolutely.
double relativeError(double a, double b, double floor = 1e-4);

}  // namespace kiln::test
