// Ahead-of-time reverse-mode differentiation of a scalar loss.
#pragma once

#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

struct AutodiffOptions {
  std::string lossOutput = "loss";   // the scalar floating point output to differentiate
  std::vector<std::string> wrtInputs;  // parameters (without '%') to differentiate with respect to
};

// Output names the gradients get: "grad.<state>" for a trainable state variable,
// "grad_input.<parameter>" for a requested input.
std::string stateGradName(const std::string& state);
std::string inputGradName(const std::string& param);

// Appends to `f` the gradient of its loss output with respect to every trainable state it
// reads and to the requested inputs, as new outputs. Trainable state that does not reach the
// loss gets no output (as a parameter without .grad in PyTorch).
Status differentiate(Module& m, Function& f, const AutodiffOptions& options = {});

}  // namespace kiln
