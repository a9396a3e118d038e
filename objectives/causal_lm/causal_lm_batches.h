// Causal LM batches: windows of the corpus, inputs and next-token targets in one [B, T + 1]
// tensor; the baseline is the unigram model of the training stream. REINFORCE evaluates its
// policy on them too.
#pragma once

#include "runtime/trainer/batch_source.h"

namespace kiln {

class CausalLmBatches : public CorpusBatches {
 public:
  using CorpusBatches::CorpusBatches;
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return one(c_.train, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override { return one(c_.val, s_.seed ^ kEvalSeedMix, index); }
  std::string describe() const override;
  std::string baselineNote() const override;
  std::vector<Baseline> baselines() const override { return {{"val_loss", "unigram", unigram()}}; }

 private:
  Expected<std::vector<ref::Tensor>> one(const std::vector<int32_t>& stream, uint64_t seed, uint64_t step) const;
  // Validation loss of add-one-smoothed unigram frequencies from the training stream.
  double unigram() const;
  mutable double cached_ = -1;
};

}  // namespace kiln
