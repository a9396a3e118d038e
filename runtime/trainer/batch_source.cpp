#include "runtime/trainer/batch_source.h"

#include "ir/numbers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "ir/attributes.h"
#include "runtime/data/special_tokens.h"
#include "runtime/data/denoising_batches.h"
#include "runtime/data/mlm_batches.h"
#include "eval/random.h"

namespace kiln {

namespace {

// Evaluation batches use their own seed, so they never coincide with training batches.
constexpr uint64_t kEvalSeedMix = 0xE7A1ULL;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

class CorpusBatches : public BatchSource {
 public:
  CorpusBatches(Corpus c, const BatchSettings& s) : c_(std::move(c)), s_(s) {}
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }
  // No validation split (data.val_fraction = 0): nothing to evaluate.
  int64_t evalBatches(int64_t requested) const override { return c_.val.empty() ? 0 : requested; }
  std::string corpusLine() const {
    return "corpus: " + std::to_string(c_.trainDocuments) + " train / " + std::to_string(c_.valDocuments) +
           " validation documents, " + std::to_string(c_.train.size()) + " / " + std::to_string(c_.val.size()) + " tokens";
  }

 protected:
  // The share of validation tokens equal to the most frequent training token: the accuracy of
  // always guessing it, which a token-prediction accuracy has to beat.
  double majorityShare() const {
    std::vector<int64_t> counts(size_t(s_.tokenizerVocab), 0);
    for (int32_t t : c_.train) ++counts[size_t(t)];
    int32_t mode = int32_t(std::max_element(counts.begin(), counts.end()) - counts.begin());
    return c_.val.empty() ? 0 : double(std::count(c_.val.begin(), c_.val.end(), mode)) / double(c_.val.size());
  }

  Corpus c_;
  BatchSettings s_;
};

class CausalLmBatches : public CorpusBatches {
 public:
  using CorpusBatches::CorpusBatches;
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return one(c_.train, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override { return one(c_.val, s_.seed ^ kEvalSeedMix, index); }
  std::string describe() const override { return corpusLine() + "; unigram baseline val loss " + fmt("%g", unigram()); }
  std::string baselineNote() const override { return " (unigram baseline " + fmt("%.4f", unigram()) + ")"; }

 private:
  Expected<std::vector<ref::Tensor>> one(const std::vector<int32_t>& stream, uint64_t seed, uint64_t step) const {
    auto t = sampleBatch(stream, s_.batch, s_.context + 1, seed, step);  // inputs and next-token targets
    if (!t) return t.error();
    return std::vector<ref::Tensor>{t.take()};
  }
  // Validation loss of add-one-smoothed unigram frequencies from the training stream.
  double unigram() const {
    if (cached_ >= 0) return cached_;
    std::vector<double> counts(size_t(s_.tokenizerVocab), 1.0);
    for (int32_t t : c_.train) counts[size_t(t)] += 1;
    double total = 0, nll = 0;
    for (double x : counts) total += x;
    for (int32_t t : c_.val) nll -= std::log(counts[size_t(t)] / total);
    return cached_ = c_.val.empty() ? 0 : nll / double(c_.val.size());
  }
  mutable double cached_ = -1;
};

class MlmBatches : public CorpusBatches {
 public:
  MlmBatches(Corpus c, const BatchSettings& s) : CorpusBatches(std::move(c), s) {
    m_.batch = s.batch;
    m_.context = s.context;
    m_.nsp = s.nsp;
    m_.maskProb = s.maskProb;
    m_.tokenizerVocab = s.tokenizerVocab;
    m_.specials = EncoderSpecials::after(s.tokenizerVocab);
    majority_ = majorityShare();
  }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return mlmBatch(c_.train, m_, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    return mlmBatch(c_.val, m_, s_.seed ^ kEvalSeedMix, index);
  }
  std::string describe() const override { return corpusLine() + "; majority baseline mlm accuracy " + fmt("%.4f", majority_); }
  std::string baselineNote() const override {
    return " (majority baseline: mlm accuracy " + fmt("%.4f", majority_) + (s_.nsp ? ", nsp accuracy 0.5)" : ")");
  }

 private:
  MlmSettings m_;
  double majority_ = 0;
};

class DenoisingBatches : public CorpusBatches {
 public:
  DenoisingBatches(Corpus c, const BatchSettings& s) : CorpusBatches(std::move(c), s) {
    d_.batch = s.batch;
    d_.context = s.context;
    d_.noise = s.noise;
    d_.noiseDensity = s.noiseDensity;
    d_.meanSpan = s.meanSpan;
    d_.tokenizerVocab = s.tokenizerVocab;
    d_.eos = s.padToken;
    majority_ = majorityShare();
  }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return denoisingBatch(c_.train, d_, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    return denoisingBatch(c_.val, d_, s_.seed ^ kEvalSeedMix, index);
  }
  std::string describe() const override {
    return corpusLine() + "; " + d_.noise + " denoising; majority baseline token accuracy " + fmt("%.4f", majority_);
  }
  std::string baselineNote() const override { return " (majority baseline: token accuracy " + fmt("%.4f", majority_) + ")"; }

 private:
  DenoisingSettings d_;
  double majority_ = 0;
};

class ClassifyBatches : public BatchSource {
 public:
  using RowMaker = std::function<std::vector<ref::Tensor>(const std::vector<const LabeledExample*>&, const ClassifyLayout&)>;
  ClassifyBatches(LabeledData d, const BatchSettings& s, RowMaker rows = classifyRows)
      : d_(std::move(d)), s_(s), rows_(std::move(rows)) {
    layout_.batch = s.batch;
    layout_.context = s.context;
    layout_.encoder = s.encoder;
    EncoderSpecials sp = EncoderSpecials::after(s.tokenizerVocab);
    layout_.cls = sp.cls;
    layout_.sep = sp.sep;
    layout_.pad = s.encoder ? sp.pad : s.padToken;
    std::vector<int64_t> counts(d_.classes.size(), 0);
    for (const auto& e : d_.val) ++counts[size_t(e.label)];
    majority_ = double(*std::max_element(counts.begin(), counts.end())) / double(d_.val.size());
  }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override {
    std::vector<const LabeledExample*> rows;
    for (int64_t r = 0; r < s_.batch; ++r) {
      double u = counterUniform(s_.seed, step * uint64_t(s_.batch) + uint64_t(r));
      rows.push_back(&d_.train[size_t(u * double(d_.train.size()))]);
    }
    return rows_(rows, layout_);
  }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    std::vector<const LabeledExample*> rows;
    for (int64_t r = 0; r < s_.batch; ++r) {
      size_t i = size_t(index) * size_t(s_.batch) + size_t(r);
      if (i < d_.val.size()) rows.push_back(&d_.val[i]);
    }
    return rows_(rows, layout_);
  }
  int64_t evalBatches(int64_t) const override { return (int64_t(d_.val.size()) + s_.batch - 1) / s_.batch; }
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }
  std::string describe() const override {
    return "labeled data: " + std::to_string(d_.classes.size()) + " classes, " + std::to_string(d_.train.size()) +
           " train / " + std::to_string(d_.val.size()) + " validation examples; majority baseline accuracy " +
           fmt("%.4f", majority_) + ", chance " + fmt("%.4f", 1.0 / double(d_.classes.size()));
  }
  std::string baselineNote() const override {
    return " (majority baseline accuracy " + fmt("%.4f", majority_) + ", chance " + fmt("%.4f", 1.0 / double(d_.classes.size())) + ")";
  }

 private:
  LabeledData d_;
  BatchSettings s_;
  RowMaker rows_;
  ClassifyLayout layout_;
  double majority_ = 0;
};

class ReinforceBatches : public CausalLmBatches {
 public:
  ReinforceBatches(Corpus c, const BatchSettings& s, const ReinforceSettings& r, const BpeTokenizer& tok, SampleStep step,
                   SampleStep reference)
      : CausalLmBatches(std::move(c), s), r_(r), tok_(tok), sample_(std::move(step)), reference_(std::move(reference)) {
    if (r_.prompts.empty()) r_.prompts = {""};
  }

  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override {
    const int64_t B = s_.batch, T = s_.context;
    ref::Tensor tokens({DType::I32, {B, T + 1}});
    std::vector<double> rewards, kls;
    std::vector<std::string> texts;
    std::vector<int64_t> start, count;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int32_t> ids{tok_.endOfText()};  // a document boundary, then the prompt
      for (int32_t t : tok_.encode(r_.prompts[size_t((step * uint64_t(B) + uint64_t(b)) % r_.prompts.size())])) ids.push_back(t);
      const int64_t room = std::min<int64_t>(r_.maxLength, T + 1 - int64_t(ids.size()));
      if (room < 1) return makeError({}, "a prompt leaves no room to sample in the context of " + std::to_string(T) + " tokens");
      std::vector<int32_t> generated;
      bool endedWithEos = false;
      double kl = 0;
      const bool penalize = r_.klCoef > 0 && reference_;
      for (int64_t pos = 0; pos + 1 < int64_t(ids.size()) + room; ++pos) {
        bool feeding = pos < int64_t(ids.size());
        int32_t token = feeding ? ids[size_t(pos)] : generated.back();
        auto logits = sample_(token, int32_t(pos));
        if (!logits) return logits.error();
        Expected<ref::Tensor> refLogits = ref::Tensor();
        if (penalize) refLogits = reference_(token, int32_t(pos));  // keeps its KV cache in step
        if (!refLogits) return refLogits.error();
        if (pos + 1 < int64_t(ids.size())) continue;
        int32_t next = draw(*logits, s_.seed ^ 0x7e1fULL, (step * uint64_t(B) + uint64_t(b)) * uint64_t(T + 1) + uint64_t(pos));
        if (penalize) kl += logProb(*logits, next) - logProb(*refLogits, next);
        if (next == tok_.endOfText()) {  // stopping is an action too: it is trained like the others
          endedWithEos = true;
          break;
        }
        generated.push_back(next);
      }
      kls.push_back(kl);
      for (int64_t t = 0; t <= T; ++t) {
        int64_t i = t - int64_t(ids.size());
        tokens[b * (T + 1) + t] = t < int64_t(ids.size()) ? ids[size_t(t)] : i < int64_t(generated.size()) ? generated[size_t(i)] : tok_.endOfText();
      }
      texts.push_back(tok_.decode(generated));
      rewards.push_back(reward(r_.reward, texts.back(), generated) - r_.klCoef * kl);
      start.push_back(int64_t(ids.size()) - 1);  // the position whose next token is the first sampled one
      count.push_back(int64_t(generated.size()) + (endedWithEos ? 1 : 0));  // the <|endoftext|> action included
    }
    if (r_.classifier) {
      auto p = r_.classifier->score(texts);
      if (!p) return p.error();
      for (size_t b = 0; b < rewards.size(); ++b) rewards[b] += (*p)[b];
    }
    auto w = reinforceWeights(rewards, start, count, T, r_.gamma, baseline_);
    ref::Tensor weights({DType::F32, {B, T}}, w);
    meanReward_ = meanKl_ = 0;
    for (double x : rewards) meanReward_ += x / double(B);
    for (double x : kls) meanKl_ += x / double(B);
    usedBaseline_ = baseline_;
    baseline_ = updateBaseline(baseline_, !haveBaseline_, rewards, r_.baselineDecay);
    haveBaseline_ = true;
    return std::vector<ref::Tensor>{tokens, weights};
  }

  std::vector<std::pair<std::string, double>> trainMetrics() const override {
    if (r_.klCoef > 0) return {{"reward", meanReward_}, {"kl", meanKl_}, {"baseline", usedBaseline_}};
    return {{"reward", meanReward_}, {"baseline", usedBaseline_}};
  }
  std::map<std::string, std::string> checkpointState() const override {
    if (!haveBaseline_) return {};
    return {{"kiln.reinforce_baseline", formatDouble(baseline_)}};
  }
  Status restoreState(const std::map<std::string, std::string>& meta) override {
    auto it = meta.find("kiln.reinforce_baseline");
    if (it == meta.end()) return okStatus();
    auto v = parseFiniteNumber(it->second);
    if (!v) return makeError({}, "damaged checkpoint: kiln.reinforce_baseline = '" + it->second + "' is not a finite number");
    baseline_ = *v;
    haveBaseline_ = true;
    return okStatus();
  }

 private:
  // log softmax(logits / temperature)[token] over the tokenizer's vocabulary: the policy the
  // actions are drawn from (draw), as the compiled loss scores it.
  double logProb(const ref::Tensor& logits, int32_t token) const {
    const int64_t V = std::min<int64_t>(logits.size(), tok_.vocabSize());
    const double T = r_.temperature;
    double mx = -INFINITY, total = 0;
    for (int64_t i = 0; i < V; ++i) mx = std::max(mx, logits[i] / T);
    for (int64_t i = 0; i < V; ++i) total += std::exp(logits[i] / T - mx);
    return logits[token] / T - mx - std::log(total);
  }

  // A token from softmax(logits / temperature) over the tokenizer's vocabulary.
  int32_t draw(const ref::Tensor& logits, uint64_t seed, uint64_t n) const {
    const int64_t V = std::min<int64_t>(logits.size(), tok_.vocabSize());
    double mx = -INFINITY, total = 0;
    for (int64_t i = 0; i < V; ++i) mx = std::max(mx, logits[i]);
    std::vector<double> p(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) total += (p[size_t(i)] = std::exp((logits[i] - mx) / r_.temperature));
    double u = counterUniform(seed, n) * total;
    for (int64_t i = 0; i < V; ++i)
      if ((u -= p[size_t(i)]) <= 0) return int32_t(i);
    return int32_t(V - 1);
  }

  ReinforceSettings r_;
  const BpeTokenizer& tok_;
  SampleStep sample_, reference_;
  mutable double baseline_ = 0, usedBaseline_ = 0, meanReward_ = 0, meanKl_ = 0;
  mutable bool haveBaseline_ = false;
};

}  // namespace

std::unique_ptr<BatchSource> makeReinforceBatchSource(Corpus corpus, const BatchSettings& s, const ReinforceSettings& r,
                                                      const BpeTokenizer& tok, SampleStep sampleStep, SampleStep reference) {
  return std::make_unique<ReinforceBatches>(std::move(corpus), s, r, tok, std::move(sampleStep), std::move(reference));
}

Expected<std::unique_ptr<BatchSource>> makeBatchSource(Corpus corpus, const BatchSettings& s) {
  if (s.objective == "causal_lm") return std::unique_ptr<BatchSource>(std::make_unique<CausalLmBatches>(std::move(corpus), s));
  if (s.objective == "mlm") return std::unique_ptr<BatchSource>(std::make_unique<MlmBatches>(std::move(corpus), s));
  if (s.objective == "seq2seq") return std::unique_ptr<BatchSource>(std::make_unique<DenoisingBatches>(std::move(corpus), s));
  return makeError({}, "this trainer's objective '" + s.objective + "' has no corpus data pipeline");
}

std::unique_ptr<BatchSource> makeClassifyBatchSource(LabeledData data, const BatchSettings& s) {
  return std::make_unique<ClassifyBatches>(std::move(data), s);
}

std::unique_ptr<BatchSource> makeClozeBatchSource(LabeledData data, ClozeTemplate tpl, int64_t shots, const BatchSettings& s) {
  if (shots > 0) {  // few-shot: the first `shots` training examples of each class
    std::vector<int64_t> taken(data.classes.size(), 0);
    std::vector<LabeledExample> kept;
    for (auto& e : data.train)
      if (taken[size_t(e.label)]++ < shots) kept.push_back(std::move(e));
    data.train = std::move(kept);
  }
  int32_t maskToken = EncoderSpecials::after(s.tokenizerVocab).mask;
  return std::make_unique<ClassifyBatches>(std::move(data), s,
                                           [tpl = std::move(tpl), maskToken](const std::vector<const LabeledExample*>& rows,
                                                                             const ClassifyLayout& l) {
                                             return clozeRows(rows, l, tpl, maskToken);
                                           });
}

}  // namespace kiln
