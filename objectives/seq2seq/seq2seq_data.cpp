// seq2seq's run half: corrupted inputs and their targets (runtime/data/denoising_batches.h).
#include "runtime/data/denoising_batches.h"
#include "runtime/trainer/objective_data.h"

namespace kiln {

namespace {

class DenoisingBatches : public CorpusBatches {
 public:
  DenoisingBatches(Corpus c, const BatchSettings& s, DenoisingSettings d) : CorpusBatches(std::move(c), s), d_(std::move(d)) {
    majority_ = majorityShare();
  }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return denoisingBatch(c_.train, d_, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    return denoisingBatch(c_.val, d_, s_.seed ^ kEvalSeedMix, index);
  }
  std::string describe() const override {
    return corpusLine() + "; " + d_.noise + " denoising; majority baseline token accuracy " + formatMetric("%.4f", majority_);
  }
  std::string baselineNote() const override { return " (majority baseline: token accuracy " + formatMetric("%.4f", majority_) + ")"; }
  std::vector<Baseline> baselines() const override { return {{"val_token_accuracy", "majority", majority_}}; }

 private:
  DenoisingSettings d_;
  double majority_ = 0;
};

class Seq2SeqData : public ObjectiveData {
 public:
  std::string name() const override { return "seq2seq"; }
  std::vector<SettingSpec> settings() const override {
    return {{"noise", SettingType::Name}, {"noise_density", SettingType::Number}, {"mean_span", SettingType::Number}};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    DenoisingSettings d;
    d.batch = in.batch.batch;
    d.context = in.batch.context;
    d.noise = in.text("noise");
    d.noiseDensity = in.number("noise_density");
    d.meanSpan = in.number("mean_span");
    d.tokenizerVocab = in.batch.tokenizerVocab;
    d.eos = in.batch.padToken;
    auto c = in.corpus();
    if (!c) return c.error();
    return std::unique_ptr<BatchSource>(std::make_unique<DenoisingBatches>(c.take(), in.batch, std::move(d)));
  }
};

}  // namespace

void registerSeq2SeqData() { registerObjectiveData(std::make_unique<Seq2SeqData>()); }

}  // namespace kiln
