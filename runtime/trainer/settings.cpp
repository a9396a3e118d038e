#include "runtime/trainer/settings.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "ir/numbers.h"
#include "runtime/trainer/objective_data.h"

namespace kiln {

const std::vector<SettingSpec>& settingsSchema() {
  using T = SettingType;
  static const std::vector<SettingSpec> schema = {
      {kSettingsVersionKey, T::Count},
      {"spec", T::Text},
      {"device", T::Name},
      {"objective", T::Name},
      {"data.labels", T::Text},
      {"data.files", T::List},
      {"data.exclude", T::List},
      {"data.separator", T::Text},
      {"data.val_fraction", T::Number},
      {"model.kind", T::Name},
      {"model.vocab", T::Count},
      {"model.context", T::Count},
      {"model.batch", T::Count},
      {"model.layers", T::Count},
      {"model.d_model", T::Count},
      {"model.heads", T::Count},
      {"model.d_ff", T::Count},
      {"model.activation", T::Name},
      {"model.layer_norm_eps", T::Number},
      {"model.norm", T::Name},
      {"model.positions", T::Name},
      {"model.parameters", T::Count},
      {"model.flops_per_step", T::Number},
      {"model.head_prefixes", T::List},
      {"train.steps", T::Count},
      {"train.seed", T::Integer},
      {"train.eval_every", T::Count},
      {"train.eval_batches", T::Count},
      {"train.checkpoint_every", T::Count},
      {"train.log_every", T::Count},
      {"train.checkpoint", T::Text},
      {"train.metrics", T::Text},
      {"train.on_divergence", T::Name},
      {"plan.arena_bytes", T::Count},
      {"plan.total_bytes", T::Count},
  };
  return schema;
}

namespace {

bool hasType(const std::string& v, SettingType t) {
  switch (t) {
    case SettingType::Text:
    case SettingType::List:
      return true;
    case SettingType::Name:
      return !v.empty() && v.find_first_of(" \t") == std::string::npos;
    case SettingType::Count:
      return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos && v.size() <= 18;
    case SettingType::Integer:
      return hasType(v[0] == '-' ? v.substr(1) : v, SettingType::Count);
    case SettingType::Number:
      return parseFiniteNumber(v).has_value();
    case SettingType::Flag:
      return v == "true" || v == "false";
  }
  return false;
}

const char* typeName(SettingType t) {
  switch (t) {
    case SettingType::Text: return "text";
    case SettingType::Name: return "a name";
    case SettingType::Count: return "a whole number";
    case SettingType::Integer: return "an integer";
    case SettingType::Number: return "a number";
    case SettingType::Flag: return "true or false";
    case SettingType::List: return "a list";
  }
  return "?";
}

}  // namespace

int64_t settingInt(const std::map<std::string, std::string>& settings, const std::string& key) {
  auto it = settings.find(key);
  auto v = it == settings.end() ? std::nullopt : parseInt64(it->second);
  KILN_ASSERT(v.has_value(), "setting '" + key + "' was not checked as an integer");
  return *v;
}

double settingNumber(const std::map<std::string, std::string>& settings, const std::string& key) {
  auto it = settings.find(key);
  auto v = it == settings.end() ? std::nullopt : parseFiniteNumber(it->second);
  KILN_ASSERT(v.has_value(), "setting '" + key + "' was not checked as a number");
  return *v;
}

Status checkSettings(const std::map<std::string, std::string>& settings, const std::string& origin) {
  auto where = Location{origin, 0, 0};
  auto version = settings.find(kSettingsVersionKey);
  if (version == settings.end() || version->second != std::to_string(kSettingsVersion))
    return makeError(where, std::string("damaged or mismatched executable: setting '") + kSettingsVersionKey + "' is " +
                                (version == settings.end() ? "missing" : "'" + version->second + "'") + ", this runtime reads version " +
                                std::to_string(kSettingsVersion));
  std::map<std::string, SettingType> known;
  for (const SettingSpec& s : settingsSchema()) known[s.key] = s.type;
  // The objective's own settings come from its run half.
  auto name = settings.find("objective");
  const ObjectiveData* objective = name == settings.end() ? nullptr : findObjectiveData(name->second);
  if (name != settings.end() && !objective) {
    std::string list;
    for (const auto& n : objectiveDataNames()) list += (list.empty() ? "" : ", ") + n;
    return makeError(where, "damaged or mismatched executable: objective '" + name->second + "' is not one this runtime has (" + list + ")");
  }
  if (objective)
    for (const SettingSpec& s : objective->settings()) known[std::string("objective.") + s.key] = s.type;
  for (const auto& [key, type] : known) {
    auto it = settings.find(key);
    if (it == settings.end()) return makeError(where, "damaged executable: setting '" + key + "' is missing");
    if (!hasType(it->second, type))
      return makeError(where, "damaged executable: setting '" + key + "' = '" + it->second + "' is not " + typeName(type));
  }
  for (const auto& [key, value] : settings)
    if (!known.count(key)) return makeError(where, "damaged or mismatched executable: unknown setting '" + key + "'");
  return okStatus();
}

}  // namespace kiln
