#include "runtime/trainer/objective_data.h"

#include "runtime/trainer/executable.h"

namespace kiln {

namespace {
std::map<std::string, std::unique_ptr<ObjectiveData>>& registry() {
  static std::map<std::string, std::unique_ptr<ObjectiveData>> r;
  return r;
}
}  // namespace

void registerObjectiveData(std::unique_ptr<ObjectiveData> objective) {
  std::string name = objective->name();
  registry()[name] = std::move(objective);
}

const ObjectiveData* findObjectiveData(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> objectiveDataNames() {
  std::vector<std::string> out;
  for (const auto& [name, o] : registry()) out.push_back(name);
  return out;
}

std::string ObjectiveDataInputs::text(const std::string& key) const {
  auto it = settings.find("objective." + key);
  KILN_ASSERT(it != settings.end(), "objective setting '" + key + "' is not in its schema");
  return it->second;
}
std::vector<std::string> ObjectiveDataInputs::list(const std::string& key) const { return splitConfigList(text(key)); }
int64_t ObjectiveDataInputs::integer(const std::string& key) const { return settingInt(settings, "objective." + key); }
double ObjectiveDataInputs::number(const std::string& key) const { return settingNumber(settings, "objective." + key); }
bool ObjectiveDataInputs::flag(const std::string& key) const { return text(key) == "true"; }

}  // namespace kiln
