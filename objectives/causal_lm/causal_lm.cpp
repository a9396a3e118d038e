// causal_lm's compile half: next-token cross-entropy of a GPT decoder, its evaluation, and the
// sampling step.
#include "models/gpt.h"
#include "objectives/objective.h"

namespace kiln {

namespace {

class CausalLm : public Objective {
 public:
  std::string name() const override { return "causal_lm"; }
  std::string summary() const override { return "causal language modelling: next-token cross-entropy"; }
  std::vector<std::string> models() const override { return {"gpt"}; }
  Status build(ObjectiveBuild& b) const override {
    const Location where = b.spec.at("objective.kind");
    Function& loss = buildGptLoss(b.module, b.config, "loss");
    for (const auto& op : loss.ops)
      if (op->name == "loss") op->loc = where;
    buildGptEvalStep(b.module, b.config, where);
    buildGptSampleStep(b.module, b.config);
    return okStatus();
  }
};

}  // namespace

void registerCausalLmObjective() { registerObjective(std::make_unique<CausalLm>()); }

}  // namespace kiln
