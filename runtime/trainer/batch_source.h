// The inputs of train_step and eval_step for each objective, as a function of the step (or the
// evaluation batch index): the data position of a run is its step number.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/corpus.h"
#include "runtime/reference/tensor.h"

namespace kiln {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual Expected<std::vector<ref::Tensor>> train(uint64_t step) const = 0;
  virtual Expected<std::vector<ref::Tensor>> eval(uint64_t index) const = 0;
  // Tokens the model reads per step (for tokens/s).
  virtual int64_t tokensPerStep() const = 0;
};

struct BatchSettings {
  std::string objective;  // causal_lm | mlm
  int64_t batch = 1, context = 1;
  uint64_t seed = 1;
  bool nsp = true;
  double maskProb = 0.15;
  int64_t tokenizerVocab = 0;
};

// The corpus must outlive the source.
Expected<std::unique_ptr<BatchSource>> makeBatchSource(const Corpus& corpus, const BatchSettings& s);

}  // namespace kiln
