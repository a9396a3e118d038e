// The objective seam: an objective written here, outside objectives/, with its two halves
// registered, is read from a spec, checked, compiled and given batches by the same code as the
// six built-in ones; nothing else has to know its name.
#include <sstream>

#include "compiler/target.h"
#include "frontends/spec/compile_spec.h"
#include "frontends/spec/spec.h"
#include "models/gpt.h"
#include "objectives/causal_lm/causal_lm_batches.h"
#include "objectives/objective.h"
#include "runtime/trainer/objective_data.h"
#include "test_helpers.h"

namespace kiln {

namespace {

// A causal LM whose eval_step is the same loss, with one key of its own.
class TwinLm : public Objective {
 public:
  std::string name() const override { return "twin_lm"; }
  std::string summary() const override { return "a test objective"; }
  std::vector<std::string> models() const override { return {"gpt"}; }
  std::vector<ObjectiveKey> keys() const override { return {{"temperature", KeyType::Number, 0.5, 2, {}, "1"}}; }
  Status validate(const ObjectiveSpec& s) const override {
    if (s.options.number("temperature") == 2) return makeError(s.options.at("temperature"), "twin_lm refuses 2");
    return okStatus();
  }
  Status build(ObjectiveBuild& b) const override {
    buildGptLoss(b.module, b.config, "loss");
    buildGptEvalStep(b.module, b.config, b.spec.at("objective.kind"));
    b.settings["built_by"] = "twin_lm";
    return okStatus();
  }
};

class TwinLmData : public ObjectiveData {
 public:
  std::string name() const override { return "twin_lm"; }
  std::vector<SettingSpec> settings() const override {
    return {{"temperature", SettingType::Number}, {"built_by", SettingType::Name}};
  }
  Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const override {
    auto c = in.corpus();
    if (!c) return c.error();
    return std::unique_ptr<BatchSource>(std::make_unique<CausalLmBatches>(c.take(), in.batch));
  }
};

const char* kSpec =
    "[model]\nvocab_size = 300\ncontext = 8\nlayers = 1\nheads = 2\nd_model = 16\n"
    "[objective]\nkind = \"twin_lm\"\ntemperature = 1.5\n"
    "[train]\nsteps = 3\nbatch = 2\n"
    "[data]\nfiles = [\"/usr/share/games/fortunes/computers\"]\ntokenizer = \"byte\"\n";

std::string withObjective(const std::string& lines) {
  std::string s = kSpec;
  const std::string from = "temperature = 1.5\n";
  return s.replace(s.find(from), from.size(), lines);
}

}  // namespace

TEST_CASE("an objective registered from outside objectives/ parses, compiles and gets batches") {
  registerObjective(std::make_unique<TwinLm>());
  registerObjectiveData(std::make_unique<TwinLmData>());

  auto spec = parseSpec(kSpec, "twin.toml");
  REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? "" : spec.error().str()));
  CHECK(spec->objective == "twin_lm");
  CHECK(spec->objectiveOptions.number("temperature") == 1.5);
  CHECK(spec->objectiveOptions.at("temperature") == Location{"twin.toml", 9, 15});

  // Its keys are checked like the others', and its own rule runs with its location.
  auto range = parseSpec(withObjective("temperature = 3\n"), "twin.toml");
  REQUIRE_FALSE(range.ok());
  CHECK(range.error().str() == "twin.toml:9:15: error: objective.temperature must be between 0.5 and 2, got 3");
  auto own = parseSpec(withObjective("temperature = 2\n"), "twin.toml");
  REQUIRE_FALSE(own.ok());
  CHECK(own.error().str() == "twin.toml:9:15: error: twin_lm refuses 2");
  auto other = parseSpec(withObjective("nsp = false\n"), "twin.toml");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().str() == "twin.toml:9:7: error: objective.nsp applies to objective.kind \"mlm\" only");
  auto wrongModel = parseSpec("[model]\nkind = \"bert\"\n" + std::string(kSpec).substr(std::string(kSpec).find("vocab_size")), "twin.toml");
  REQUIRE_FALSE(wrongModel.ok());
  CHECK(wrongModel.error().message == "objective.kind \"twin_lm\" (a test objective) trains model.kind \"gpt\", got model.kind \"bert\"");

  // Compiled: its key and what its build added are settings its run half reads back.
  std::ostringstream ir, timing;
  auto compiled = compileSpec(*spec, PassManagerOptions{}, ir, timing, *findTarget("reference"));
  REQUIRE_MESSAGE(compiled.ok(), (compiled.ok() ? "" : compiled.error().str()));
  auto settings = compiled->exe.configMap();
  CHECK(settings.at("objective") == "twin_lm");
  CHECK(settings.at("objective.temperature") == "1.5");
  CHECK(settings.at("objective.built_by") == "twin_lm");
  CHECK(checkSettings(settings, "twin").ok());
  settings["objective.stray"] = "1";  // a key neither half knows
  CHECK(checkSettings(settings, "twin").error().message == "damaged or mismatched executable: unknown setting 'objective.stray'");
}

}  // namespace kiln
