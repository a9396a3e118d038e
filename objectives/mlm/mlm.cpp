// mlm's compile half: BERT pretraining, masked-token cross-entropy plus next-sentence
// prediction (objective.nsp).
#include "models/bert.h"
#include "objectives/objective.h"

namespace kiln {

namespace {

class Mlm : public Objective {
 public:
  std::string name() const override { return "mlm"; }
  std::string summary() const override { return "masked language modelling with next-sentence prediction"; }
  std::vector<std::string> models() const override { return {"bert"}; }
  std::vector<ObjectiveKey> keys() const override {
    return {{"nsp", KeyType::Bool, 0, 0, {}, "true"},
            {"mask_prob", KeyType::Number, 0.01, 0.9, {}, "0.15"},
            // Continued pretraining: from another BERT's checkpoint or a Hugging Face BERT folder.
            {"init_from", KeyType::String, 0, 0, {}, "", /*path=*/true}};
  }
  Status validate(const ObjectiveSpec& s) const override {
    const bool nsp = s.options.flag("nsp");
    if (s.model.context < (nsp ? 5 : 3))
      return makeError(s.at("model.context"), "objective \"mlm\" needs model.context >= " + std::string(nsp ? "5" : "3") +
                                                  " ([CLS] A [SEP]" + (nsp ? " B [SEP]" : "") + ")");
    return okStatus();
  }
  Status build(ObjectiveBuild& b) const override {
    const bool nsp = b.spec.options.flag("nsp");
    b.config.sources["lm_head"] = b.spec.at("objective.kind");
    b.headPrefixes = {"cls.", "bert.pooler."};  // fresh when init_from has no such heads (a BertModel)
    addBertParameters(b.module, b.config, BertHeads{.mlm = true, .pooler = nsp, .nsp = nsp});
    buildBertPretraining(b.module, b.config, nsp, "loss", "");
    buildBertPretraining(b.module, b.config, nsp, "eval_step", "val_");
    return okStatus();
  }
};

}  // namespace

void registerMlmObjective() { registerObjective(std::make_unique<Mlm>()); }

}  // namespace kiln
