// The inputs of train_step and eval_step for each objective, as a function of the step (or the
// evaluation batch index): the data position of a run is its step number. A source owns its
// data and knows the baseline its metrics are compared with.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/corpus.h"
#include "runtime/data/labeled_data.h"
#include "eval/tensor.h"
#include "runtime/trainer/classifier_reward.h"
#include "runtime/trainer/reinforce.h"

namespace kiln {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual Expected<std::vector<ref::Tensor>> train(uint64_t step) const = 0;
  virtual Expected<std::vector<ref::Tensor>> eval(uint64_t index) const = 0;
  // Evaluation batches for `requested` (classification always covers the whole split); 0
  // without a validation split.
  virtual int64_t evalBatches(int64_t requested) const { return requested; }
  virtual int64_t tokensPerStep() const = 0;
  // One line about the data and the baseline, e.g. "corpus: ...; unigram baseline val loss 6.39".
  virtual std::string describe() const = 0;
  // Appended to evaluation lines: " (unigram baseline 6.3870)".
  virtual std::string baselineNote() const = 0;
  // Metrics of the last training batch (REINFORCE: the mean reward), logged with the step.
  virtual std::vector<std::pair<std::string, double>> trainMetrics() const { return {}; }
  // Host state a checkpoint carries (the reward baseline), and its restore on resume.
  virtual std::map<std::string, std::string> checkpointState() const { return {}; }
  virtual Status restoreState(const std::map<std::string, std::string>&) { return okStatus(); }
};

struct BatchSettings {
  std::string objective;  // causal_lm | mlm | classify
  int64_t batch = 1, context = 1;
  uint64_t seed = 1;
  bool nsp = true;
  double maskProb = 0.15;
  int64_t tokenizerVocab = 0;
  bool encoder = false;
  int32_t padToken = 0;  // decoders pad classification rows with <|endoftext|>
  std::string noise = "t5";  // seq2seq
  double noiseDensity = 0.15, meanSpan = 3.0;
};

Expected<std::unique_ptr<BatchSource>> makeBatchSource(Corpus corpus, const BatchSettings& s);
std::unique_ptr<BatchSource> makeClassifyBatchSource(LabeledData data, const BatchSettings& s);
// Cloze rows from the template; `data` holds the verbalizer's classes only; with `shots` > 0
// training uses the first `shots` examples of each class.
// REINFORCE: each training batch is sampled from the current policy through `sampleStep`
// (logits of the next token after `token` at `pos`, with the KV cache), scored by the reward,
// and weighted by discounted return minus the moving-average baseline; evaluation batches are
// the corpus' (the policy's language-model loss).
struct ReinforceSettings {
  std::vector<std::string> prompts{""};
  int64_t maxLength = 24;
  double temperature = 1.0, gamma = 1.0, baselineDecay = 0.9;
  RewardSettings reward;
  std::shared_ptr<ClassifierReward> classifier;  // the "classifier" reward: p(label | continuation)
  // KL penalty: reward -= kl_coef * sum_t (log pi(a_t) - log pi_ref(a_t)), pi_ref the initial
  // policy, run in lockstep through `reference` (its own engine and KV cache).
  double klCoef = 0;
};
using SampleStep = std::function<Expected<ref::Tensor>(int32_t token, int32_t pos)>;
std::unique_ptr<BatchSource> makeReinforceBatchSource(Corpus corpus, const BatchSettings& s, const ReinforceSettings& r,
                                                      const BpeTokenizer& tok, SampleStep sampleStep,
                                                      SampleStep reference = nullptr);

std::unique_ptr<BatchSource> makeClozeBatchSource(LabeledData data, ClozeTemplate tpl, int64_t shots, const BatchSettings& s);

}  // namespace kiln
