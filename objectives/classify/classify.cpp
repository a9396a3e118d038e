// classify's compile half: a sequence-classification head on a GPT or BERT body
// (models/classifier.h), optionally from a pretrained body (init_from) and frozen.
#include "models/classifier.h"
#include "objectives/objective.h"
#include "runtime/trainer/executable.h"

namespace kiln {

namespace {

class Classify : public Objective {
 public:
  std::string name() const override { return "classify"; }
  std::string summary() const override { return "sequence classification fine-tuning"; }
  std::vector<std::string> models() const override { return {"gpt", "bert"}; }
  std::vector<ObjectiveKey> keys() const override {
    return {{"init_from", KeyType::String, 0, 0, {}, "", /*path=*/true}, {"freeze", KeyType::Bool, 0, 0, {}, "false"}};
  }
  bool labeled() const override { return true; }
  Status validate(const ObjectiveSpec& s) const override {
    if (s.options.flag("freeze") && s.options.text("init_from").empty())
      return makeError(s.at("objective.freeze"), "objective.freeze needs objective.init_from (a frozen random body learns nothing)");
    if (s.modelKind == "bert" && s.model.context < 3)
      return makeError(s.at("model.context"), "classify with bert needs model.context >= 3 ([CLS] text [SEP])");
    return okStatus();
  }
  Status build(ObjectiveBuild& b) const override {
    auto data = labelData(b.labeled, b.tokenizer, b.source);
    if (!data) return makeError(b.spec.at("data.files"), data.error().message);
    b.settings["classes"] = joinConfigList(data->classes);
    b.headPrefixes = classifierHeadPrefixes();
    b.config.sources["objective"] = b.spec.at("objective.kind");
    addClassifierParameters(b.module, b.config, b.spec.modelKind, int64_t(data->classes.size()), true);
    if (b.spec.options.flag("freeze"))  // the body becomes constant state: no gradients, no updates
      for (StateVar& s : b.module.states) s.trainable = s.trainable && isClassifierHead(s.name);
    buildClassifier(b.module, b.config, b.spec.modelKind, "loss", "");
    buildClassifier(b.module, b.config, b.spec.modelKind, "eval_step", "val_");
    return okStatus();
  }
};

}  // namespace

void registerClassifyObjective() { registerObjective(std::make_unique<Classify>()); }

}  // namespace kiln
