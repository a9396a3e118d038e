// Optimizer lowering: turns a function with a loss and gradient outputs (from autodiff) into
// `train_step`, which also updates the parameters and optimizer state in place.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

struct OptimizerConfig {
  std::string kind = "adamw";  // "adamw" (torch.optim.AdamW) or "sgd" (torch.optim.SGD)
  double lr = 1e-3;            // peak learning rate
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // AdamW
  double weightDecay = -1;     // < 0: the optimizer's PyTorch default (AdamW 0.01, SGD 0)
  double momentum = 0.0;       // SGD
  bool nesterov = false;       // SGD
  double clipNorm = 0.0;       // global gradient norm clipping (clip_grad_norm_); 0 = off
  std::string schedule = "constant";  // "constant", "cosine", "linear"
  int64_t warmupSteps = 0;     // linear warmup from lr/warmup to lr over these steps
  int64_t totalSteps = 0;      // cosine/linear decay reach minLr at this step
  double minLr = 0.0;
  // Parameters excluded from weight decay: glob patterns over state names ('*' any run).
  // Empty: every parameter of rank < 2 (biases, norm gains) is excluded.
  std::vector<std::string> noDecay;
  Location source;  // where the optimizer was configured (stamped on the update ops)
  // AdamW: one adamw_update op per parameter (one pass over p, g, m, v) instead of the chain of
  // elementwise ops; both compute torch.optim.AdamW's arithmetic.
  bool fused = true;
  // A step whose gradient norm is not finite (inf or NaN: the loss overflowed) leaves every
  // parameter, moment and the step counter as they were (train.on_divergence = "skip"); the
  // trainer sees the non-finite grad_norm output and counts the skipped step.
  bool skipNonFinite = false;
};

// Names of the state the lowering adds.
inline const char* kStepState = "optimizer.step";
std::string firstMomentName(const std::string& param);   // "optimizer.m.<param>"
std::string secondMomentName(const std::string& param);  // "optimizer.v.<param>"
std::string momentumName(const std::string& param);      // "optimizer.momentum.<param>"

Status validateOptimizerConfig(const OptimizerConfig& c);
bool excludedFromDecay(const OptimizerConfig& c, const StateVar& param);

// Rewrites `f` (outputs: loss, grad.<param>...) into `train_step`: gradient outputs are
// replaced by `lr` and `grad_norm` outputs and by state updates.
Status lowerOptimizer(Module& m, Function& f, const OptimizerConfig& config);

class Pass;
std::unique_ptr<Pass> createOptimizerPass(const OptimizerConfig& config);

}  // namespace kiln
