// The trainer settings schema: what the compiler writes passes it, and a damaged or mismatched
// setting is named.
#include <doctest/doctest.h>

#include "runtime/trainer/executable.h"
#include "runtime/trainer/objective_data.h"
#include "runtime/trainer/settings.h"

namespace kiln {

namespace {

std::map<std::string, std::string> validSettings() {
  std::map<std::string, std::string> s;
  for (const SettingSpec& spec : settingsSchema()) {
    switch (spec.type) {
      case SettingType::Text: s[spec.key] = ""; break;
      case SettingType::Name: s[spec.key] = "cpu"; break;
      case SettingType::Count: s[spec.key] = "12"; break;
      case SettingType::Integer: s[spec.key] = "-3"; break;
      case SettingType::Number: s[spec.key] = "0.25"; break;
      case SettingType::Flag: s[spec.key] = "true"; break;
      case SettingType::List: s[spec.key] = joinConfigList({"a", "b"}); break;
    }
  }
  s[kSettingsVersionKey] = std::to_string(kSettingsVersion);
  // The objective's own settings come from its run half (objectives/mlm/mlm_data.cpp).
  s["objective"] = "mlm";
  s["objective.nsp"] = "true";
  s["objective.mask_prob"] = "0.15";
  s["objective.init_from"] = "";
  return s;
}

std::string errorOf(const std::map<std::string, std::string>& s) {
  auto r = checkSettings(s, "my-trainer");
  return r ? "ok" : r.error().str();
}

}  // namespace

TEST_CASE("settings: a complete set passes, each damage names the trainer and the field") {
  CHECK(errorOf(validSettings()) == "ok");
  auto s = validSettings();
  s["model.batch"] = "eight";
  CHECK(errorOf(s) == "my-trainer: error: damaged executable: setting 'model.batch' = 'eight' is not a whole number");
  s = validSettings();
  s["objective.mask_prob"] = "nan";
  CHECK(errorOf(s).find("'objective.mask_prob' = 'nan' is not a number") != std::string::npos);
  s = validSettings();
  s["objective.nsp"] = "yes";
  CHECK(errorOf(s).find("is not true or false") != std::string::npos);
  s = validSettings();
  s.erase("train.steps");
  CHECK(errorOf(s).find("setting 'train.steps' is missing") != std::string::npos);
  s = validSettings();
  s["train.bogus"] = "1";
  CHECK(errorOf(s).find("unknown setting 'train.bogus'") != std::string::npos);
  s = validSettings();
  s[kSettingsVersionKey] = "0";
  CHECK(errorOf(s).find("this runtime reads version") != std::string::npos);
  s.erase(kSettingsVersionKey);
  CHECK(errorOf(s).find("is missing") != std::string::npos);
  s = validSettings();
  s.erase("objective.nsp");  // the objective's keys are required like the others
  CHECK(errorOf(s) == "my-trainer: error: damaged executable: setting 'objective.nsp' is missing");
  s = validSettings();
  s["objective.prompts"] = "";  // another objective's key
  CHECK(errorOf(s) == "my-trainer: error: damaged or mismatched executable: unknown setting 'objective.prompts'");
  s = validSettings();
  s["objective"] = "mln";
  CHECK(errorOf(s).find("objective 'mln' is not one this runtime has (") != std::string::npos);
  s = validSettings();
  s["train.seed"] = "-";
  CHECK(errorOf(s).find("is not an integer") != std::string::npos);
}

}  // namespace kiln
