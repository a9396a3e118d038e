// reinforce's compile half: the REINFORCE policy-gradient loss of a GPT policy over sampled
// continuations (weights from the run half), its causal-LM evaluation, and the sampling step.
#include <algorithm>

#include "models/gpt.h"
#include "objectives/objective.h"
#include "runtime/trainer/executable.h"

namespace kiln {

namespace {

class Reinforce : public Objective {
 public:
  std::string name() const override { return "reinforce"; }
  std::string summary() const override { return "REINFORCE policy-gradient fine-tuning"; }
  std::vector<std::string> models() const override { return {"gpt"}; }
  std::vector<ObjectiveKey> keys() const override {
    return {{"init_from", KeyType::String, 0, 0, {}, "", /*path=*/true},
            {"prompts", KeyType::StringList, 0, 0, {}, joinConfigList({""})},
            {"max_length", KeyType::Int, 1, 1 << 16, {}, "24"},
            {"temperature", KeyType::Number, 0.01, 100, {}, "1"},
            {"gamma", KeyType::Number, 0, 1, {}, "1"},
            {"baseline_decay", KeyType::Number, 0, 0.9999, {}, "0.9"},
            {"reward", KeyType::StringList, 0, 0, {}, "repetition"},
            {"keywords", KeyType::StringList, 0, 0, {}, ""},
            {"target_length", KeyType::Int, 1, 1 << 16, {}, "20"},
            {"reward_model", KeyType::String, 0, 0, {}, "", /*path=*/true},
            {"reward_checkpoint", KeyType::String, 0, 0, {}, "", /*path=*/true},
            {"reward_label", KeyType::String, 0, 0, {}, ""},
            {"kl_coef", KeyType::Number, 0, 100, {}, "0"}};
  }
  Status validate(const ObjectiveSpec& s) const override {
    const ObjectiveOptions& o = s.options;
    const auto reward = o.list("reward");
    auto has = [&](const char* kind) { return std::find(reward.begin(), reward.end(), kind) != reward.end(); };
    if (reward.empty()) return makeError(o.at("reward"), "objective.reward needs at least one of \"keywords\", \"length\", \"repetition\"");
    for (const auto& r : reward)
      if (r != "keywords" && r != "length" && r != "repetition" && r != "classifier")
        return makeError(o.at("reward"), "objective.reward entries must be \"keywords\", \"length\", \"repetition\" or \"classifier\", got \"" + r + "\"");
    if (has("classifier"))
      for (const char* k : {"reward_model", "reward_checkpoint", "reward_label"})
        if (!o.has(k))
          return makeError(o.at("reward"), std::string("the \"classifier\" reward needs objective.") + k +
                                               " (a compiled classify trainer, its checkpoint, and the label to reward)");
    if (has("keywords") && o.list("keywords").empty()) return makeError(o.at("reward"), "the \"keywords\" reward needs objective.keywords");
    if (o.has("prompts") && o.list("prompts").empty())
      return makeError(o.at("prompts"), "objective.prompts needs at least one prompt (\"\" starts from nothing)");
    if (o.integer("max_length") >= s.model.context)
      return makeError(o.at("max_length"), "objective.max_length (" + o.text("max_length") + ") must be smaller than model.context (" +
                                               std::to_string(s.model.context) + ") to leave room for the prompt");
    return okStatus();
  }
  Status build(ObjectiveBuild& b) const override {
    b.config.sources["objective"] = b.spec.at("objective.kind");
    addGptParameters(b.module, b.config);
    buildGptReinforceLoss(b.module, b.config, "loss", b.spec.options.number("temperature"));
    buildGptEvalStep(b.module, b.config, b.spec.at("objective.kind"));  // the causal-LM loss: how far the policy drifts
    buildGptSampleStep(b.module, b.config);
    return okStatus();
  }
};

}  // namespace

void registerReinforceObjective() { registerObjective(std::make_unique<Reinforce>()); }

}  // namespace kiln
