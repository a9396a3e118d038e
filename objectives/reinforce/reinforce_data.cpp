// reinforce's run half: each training batch is sampled from the current policy through its
// sample_step (with the KV cache), scored by the reward, and weighted by discounted return minus
// the moving-average baseline; evaluation batches are the corpus' (the policy's language-model
// loss).
#include <algorithm>
#include <cmath>
#include <functional>

#include "eval/random.h"
#include "ir/attributes.h"
#include "ir/numbers.h"
#include "objectives/causal_lm/causal_lm_batches.h"
#include "objectives/reinforce/classifier_reward.h"
#include "runtime/trainer/executable.h"
#include "runtime/trainer/objective_data.h"
#include "objectives/reinforce/rewards.h"

namespace kiln {

namespace {

struct ReinforceSettings {
  std::vector<std::string> prompts{""};
  int64_t maxLength = 24;
  double temperature = 1.0, gamma = 1.0, baselineDecay = 0.9;
  RewardSettings reward;
  std::shared_ptr<ClassifierReward> classifier;  // the "classifier" reward: p(label | continuation)
  // KL penalty: reward -= kl_coef * sum_t (log pi(a_t) - log pi_ref(a_t)), pi_ref the initial
  // policy, run in lockstep (its own engine and KV cache).
  double klCoef = 0;
};
using SampleStep = std::function<Expected<ref::Tensor>(int32_t token, int32_t pos)>;

class ReinforceBatches : public CausalLmBatches {
 public:
  ReinforceBatches(Corpus c, const BatchSettings& s, ReinforceSettings r, const Tokenizer& tok, Engine& policy,
                   std::unique_ptr<Engine> reference)
      : CausalLmBatches(std::move(c), s), r_(std::move(r)), tok_(tok), sample_(sampleStep(policy)),
        referenceEngine_(std::move(reference)) {
    if (r_.prompts.empty()) r_.prompts = {""};
    if (referenceEngine_) reference_ = sampleStep(*referenceEngine_);
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

  // Logits of the next token after `token` at `pos`, through the engine's sample_step (KV cache).
  static SampleStep sampleStep(Engine& e) {
    return [&e](int32_t token, int32_t pos) -> Expected<ref::Tensor> {
      auto outs = e.call("sample_step", {ref::Tensor({DType::I32, {1}}, {double(token)}), ref::Tensor({DType::I32, {}}, {double(pos)})});
      if (!outs) return outs.error();
      return (*outs)[0];
    };
  }

  ReinforceSettings r_;
  const Tokenizer& tok_;
  SampleStep sample_, reference_;
  std::unique_ptr<Engine> referenceEngine_;  // the initial policy, run in lockstep for the KL penalty
  mutable double baseline_ = 0, usedBaseline_ = 0, meanReward_ = 0, meanKl_ = 0;
  mutable bool haveBaseline_ = false;
};

class ReinforceData : public ObjectiveData {
 public:
  std::string name() const override { return "reinforce"; }
  bool scoresTokens() const override { return true; }  // eval_step: the policy's causal-LM loss
  std::vector<SettingSpec> settings() const override {
    using T = SettingType;
    return {{"init_from", T::Text},      {"prompts", T::List},       {"max_length", T::Count},      {"temperature", T::Number},
            {"gamma", T::Number},        {"baseline_decay", T::Number}, {"reward", T::List},      {"keywords", T::List},
            {"target_length", T::Count}, {"reward_model", T::Text},  {"reward_checkpoint", T::Text}, {"reward_label", T::Text},
            {"kl_coef", T::Number}};
  }
  std::vector<std::string> inputFiles(const std::map<std::string, std::string>& settings) const override {
    return {settings.at("objective.reward_model"), settings.at("objective.reward_checkpoint")};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    auto c = in.corpus();
    if (!c) return c.error();
    if (!in.engine) return std::unique_ptr<BatchSource>(std::make_unique<CausalLmBatches>(c.take(), in.batch));
    ReinforceSettings r;
    r.prompts = in.list("prompts");
    r.maxLength = in.integer("max_length");
    r.temperature = in.number("temperature");
    r.gamma = in.number("gamma");
    r.baselineDecay = in.number("baseline_decay");
    r.reward.kinds = in.list("reward");
    r.reward.keywords = in.list("keywords");
    r.reward.targetLength = in.integer("target_length");
    r.klCoef = in.number("kl_coef");
    if (std::find(r.reward.kinds.begin(), r.reward.kinds.end(), "classifier") != r.reward.kinds.end()) {
      auto cls = ClassifierReward::load(in.text("reward_model"), in.text("reward_checkpoint"), in.text("reward_label"));
      if (!cls) return cls.error();
      r.classifier = std::move(*cls);
    }
    std::unique_ptr<Engine> reference;
    if (r.klCoef > 0) {  // the initial policy, on an engine of its own
      auto e = in.initialEngine();
      if (!e) return e.error();
      reference = e.take();
    }
    return std::unique_ptr<BatchSource>(
        std::make_unique<ReinforceBatches>(c.take(), in.batch, std::move(r), in.tokenizer, *in.engine, std::move(reference)));
  }
};

}  // namespace

void registerReinforceData() { registerObjectiveData(std::make_unique<ReinforceData>()); }

}  // namespace kiln
