// The inputs of train_step and eval_step of an objective, as a function of the step (or the
// evaluation batch index): the data position of a run is its step number. A source owns its
// data and knows the baseline its metrics are compared with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/corpus.h"
#include "runtime/data/special_tokens.h"
#include "eval/tensor.h"

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
  // The same baselines by the evaluation metric they stand beside (for run reports).
  struct Baseline {
    std::string metric;  // "val_loss", "val_accuracy"
    std::string name;    // "unigram", "majority", "chance"
    double value = 0;
  };
  virtual std::vector<Baseline> baselines() const = 0;
  // Metrics of the last training batch (REINFORCE: the mean reward), logged with the step.
  virtual std::vector<std::pair<std::string, double>> trainMetrics() const { return {}; }
  // Host state a checkpoint carries (the reward baseline), and its restore on resume.
  virtual std::map<std::string, std::string> checkpointState() const { return {}; }
  virtual Status restoreState(const std::map<std::string, std::string>&) { return okStatus(); }
};

// What every objective's batches share: shapes, seed and the tokenizer's facts.
struct BatchSettings {
  int64_t batch = 1, context = 1;
  uint64_t seed = 1;
  int64_t tokenizerVocab = 0;
  bool encoder = false;  // the model reads [CLS] ... [SEP] rows (runtime/data/special_tokens.h)
  EncoderSpecials specials{0, 0, 0, 0};  // an encoder's [PAD] [CLS] [SEP] [MASK] (the tokenizer's)
  int32_t padToken = 0;  // decoders pad with <|endoftext|>
};

// Evaluation batches use their own seed, so they never coincide with training batches.
inline constexpr uint64_t kEvalSeedMix = 0xE7A1ULL;

// printf of one number, for baseline lines.
std::string formatMetric(const char* format, double v);

// Batches drawn from a tokenized corpus: the base of the language-modelling objectives.
class CorpusBatches : public BatchSource {
 public:
  CorpusBatches(Corpus c, const BatchSettings& s) : c_(std::move(c)), s_(s) {}
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }
  // No validation split (data.val_fraction = 0): nothing to evaluate.
  int64_t evalBatches(int64_t requested) const override { return c_.val.empty() ? 0 : requested; }
  std::string corpusLine() const;

 protected:
  // The share of validation tokens equal to the most frequent training token: the accuracy of
  // always guessing it, which a token-prediction accuracy has to beat.
  double majorityShare() const;

  Corpus c_;
  BatchSettings s_;
};

}  // namespace kiln
