#include "runtime/trainer/batch_source.h"

#include "runtime/data/mlm_batches.h"

namespace kiln {

namespace {

// Evaluation batches use their own seed, so they never coincide with training batches.
constexpr uint64_t kEvalSeedMix = 0xE7A1ULL;

class CausalLmBatches : public BatchSource {
 public:
  CausalLmBatches(const Corpus& c, const BatchSettings& s) : c_(c), s_(s) {}
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return one(c_.train, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override { return one(c_.val, s_.seed ^ kEvalSeedMix, index); }
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }

 private:
  Expected<std::vector<ref::Tensor>> one(const std::vector<int32_t>& stream, uint64_t seed, uint64_t step) const {
    auto t = sampleBatch(stream, s_.batch, s_.context + 1, seed, step);  // inputs and next-token targets
    if (!t) return t.error();
    return std::vector<ref::Tensor>{t.take()};
  }
  const Corpus& c_;
  BatchSettings s_;
};

class MlmBatches : public BatchSource {
 public:
  MlmBatches(const Corpus& c, const BatchSettings& s) : c_(c), s_(s) {
    m_.batch = s.batch;
    m_.context = s.context;
    m_.nsp = s.nsp;
    m_.maskProb = s.maskProb;
    m_.tokenizerVocab = s.tokenizerVocab;
    m_.specials = EncoderSpecials::after(s.tokenizerVocab);
  }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return mlmBatch(c_.train, m_, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    return mlmBatch(c_.val, m_, s_.seed ^ kEvalSeedMix, index);
  }
  int64_t tokensPerStep() const override { return s_.batch * s_.context; }

 private:
  const Corpus& c_;
  BatchSettings s_;
  MlmSettings m_;
};

}  // namespace

Expected<std::unique_ptr<BatchSource>> makeBatchSource(const Corpus& corpus, const BatchSettings& s) {
  if (s.objective == "causal_lm") return std::unique_ptr<BatchSource>(std::make_unique<CausalLmBatches>(corpus, s));
  if (s.objective == "mlm") return std::unique_ptr<BatchSource>(std::make_unique<MlmBatches>(corpus, s));
  return makeError({}, "this trainer's objective '" + s.objective + "' has no data pipeline");
}

}  // namespace kiln
