// causal_lm's run half: corpus windows (causal_lm_batches.h).
#include <cmath>

#include "objectives/causal_lm/causal_lm_batches.h"
#include "runtime/trainer/objective_data.h"

namespace kiln {

std::string CausalLmBatches::describe() const { return corpusLine() + "; unigram baseline val loss " + formatMetric("%g", unigram()); }
std::string CausalLmBatches::baselineNote() const { return " (unigram baseline " + formatMetric("%.4f", unigram()) + ")"; }

Expected<std::vector<ref::Tensor>> CausalLmBatches::one(const std::vector<int32_t>& stream, uint64_t seed, uint64_t step) const {
  auto t = sampleBatch(stream, s_.batch, s_.context + 1, seed, step);  // inputs and next-token targets
  if (!t) return t.error();
  return std::vector<ref::Tensor>{t.take()};
}

double CausalLmBatches::unigram() const {
  if (cached_ >= 0) return cached_;
  std::vector<double> counts(size_t(s_.tokenizerVocab), 1.0);
  for (int32_t t : c_.train) counts[size_t(t)] += 1;
  double total = 0, nll = 0;
  for (double x : counts) total += x;
  for (int32_t t : c_.val) nll -= std::log(counts[size_t(t)] / total);
  return cached_ = c_.val.empty() ? 0 : nll / double(c_.val.size());
}

namespace {

class CausalLmData : public ObjectiveData {
 public:
  std::string name() const override { return "causal_lm"; }
  bool scoresTokens() const override { return true; }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    auto c = in.corpus();
    if (!c) return c.error();
    return std::unique_ptr<BatchSource>(std::make_unique<CausalLmBatches>(c.take(), in.batch));
  }
};

}  // namespace

void registerCausalLmData() { registerObjectiveData(std::make_unique<CausalLmData>()); }

}  // namespace kiln
