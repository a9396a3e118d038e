// mlm's run half: masked rows (runtime/data/mlm_batches.h), with sentence pairs for NSP.
#include "runtime/data/mlm_batches.h"
#include "runtime/data/special_tokens.h"
#include "runtime/trainer/objective_data.h"

namespace kiln {

namespace {

class MlmBatches : public CorpusBatches {
 public:
  MlmBatches(Corpus c, const BatchSettings& s, MlmSettings m) : CorpusBatches(std::move(c), s), m_(m) { majority_ = majorityShare(); }
  Expected<std::vector<ref::Tensor>> train(uint64_t step) const override { return mlmBatch(c_.train, m_, s_.seed, step); }
  Expected<std::vector<ref::Tensor>> eval(uint64_t index) const override {
    return mlmBatch(c_.val, m_, s_.seed ^ kEvalSeedMix, index);
  }
  std::string describe() const override { return corpusLine() + "; majority baseline mlm accuracy " + formatMetric("%.4f", majority_); }
  std::string baselineNote() const override {
    return " (majority baseline: mlm accuracy " + formatMetric("%.4f", majority_) + (m_.nsp ? ", nsp accuracy 0.5)" : ")");
  }
  std::vector<Baseline> baselines() const override {
    std::vector<Baseline> b = {{"val_mlm_accuracy", "majority", majority_}};
    if (m_.nsp) b.push_back({"val_nsp_accuracy", "chance", 0.5});
    return b;
  }

 private:
  MlmSettings m_;
  double majority_ = 0;
};

class MlmData : public ObjectiveData {
 public:
  std::string name() const override { return "mlm"; }
  std::vector<SettingSpec> settings() const override {
    return {{"nsp", SettingType::Flag}, {"mask_prob", SettingType::Number}, {"init_from", SettingType::Text}};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    MlmSettings m;
    m.batch = in.batch.batch;
    m.context = in.batch.context;
    m.nsp = in.flag("nsp");
    m.maskProb = in.number("mask_prob");
    m.tokenizerVocab = in.batch.tokenizerVocab;
    m.specials = in.batch.specials;
    auto c = in.corpus();
    if (!c) return c.error();
    return std::unique_ptr<BatchSource>(std::make_unique<MlmBatches>(c.take(), in.batch, m));
  }
};

}  // namespace

void registerMlmData() { registerObjectiveData(std::make_unique<MlmData>()); }

}  // namespace kiln
