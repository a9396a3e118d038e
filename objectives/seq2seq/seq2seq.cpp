// seq2seq's compile half: denoising an encoder-decoder (T5 span corruption or BART text
// infilling, objective.noise); the corruption itself is the run half's.
#include "models/seq2seq.h"
#include "objectives/objective.h"

namespace kiln {

namespace {

class Seq2Seq : public Objective {
 public:
  std::string name() const override { return "seq2seq"; }
  std::string summary() const override { return "sequence-to-sequence denoising"; }
  std::vector<std::string> models() const override { return {"bart"}; }
  std::vector<ObjectiveKey> keys() const override {
    return {{"noise", KeyType::String, 0, 0, {"t5", "bart"}, "t5"},
            {"noise_density", KeyType::Number, 0.01, 0.9, {}, "0.15"},
            {"mean_span", KeyType::Number, 1, 64, {}, "3"}};
  }
  Status build(ObjectiveBuild& b) const override {
    addSeq2SeqParameters(b.module, b.config);
    buildSeq2Seq(b.module, b.config, "loss", "");
    buildSeq2Seq(b.module, b.config, "eval_step", "val_");
    return okStatus();
  }
};

}  // namespace

void registerSeq2SeqObjective() { registerObjective(std::make_unique<Seq2Seq>()); }

}  // namespace kiln
