#include "objectives/objective.h"

#include <algorithm>

#include "ir/numbers.h"
#include "runtime/trainer/executable.h"

namespace kiln {

namespace {
std::vector<std::unique_ptr<Objective>>& registry() {
  static std::vector<std::unique_ptr<Objective>> r;
  return r;
}
}  // namespace

void registerObjective(std::unique_ptr<Objective> objective) {
  if (!findObjective(objective->name())) registry().push_back(std::move(objective));
}

const Objective* findObjective(const std::string& name) {
  for (const auto& o : registry())
    if (o->name() == name) return o.get();
  return nullptr;
}

std::vector<std::string> objectiveNames() {
  std::vector<std::string> out;
  for (const auto& o : registry()) out.push_back(o->name());
  return out;
}

std::vector<std::string> objectivesWithKey(const std::string& key) {
  std::vector<std::string> out;
  for (const auto& o : registry())
    for (const ObjectiveKey& k : o->keys())
      if (key == k.key) out.push_back(o->name());
  return out;
}

const ObjectiveKey& ObjectiveOptions::key(const std::string& name) const {
  auto it = std::find_if(keys_.begin(), keys_.end(), [&](const ObjectiveKey& k) { return name == k.key; });
  KILN_ASSERT(it != keys_.end(), "objective key '" + name + "' is not among the objective's keys");
  return *it;
}

Location ObjectiveOptions::at(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? kindAt_ : it->second.at;
}

std::string ObjectiveOptions::text(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second.text;
  return key(name).fallback;
}

std::vector<std::string> ObjectiveOptions::list(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second.list;
  return splitConfigList(key(name).fallback);
}

const std::map<std::string, std::vector<std::string>>& ObjectiveOptions::table(const std::string& name) const {
  static const std::map<std::string, std::vector<std::string>> empty;
  (void)key(name);
  auto it = values_.find(name);
  return it == values_.end() ? empty : it->second.table;
}

int64_t ObjectiveOptions::integer(const std::string& name) const {
  auto v = parseInt64(text(name));
  KILN_ASSERT(v.has_value(), "objective key '" + name + "' is not an integer");
  return *v;
}

double ObjectiveOptions::number(const std::string& name) const {
  auto v = parseFiniteNumber(text(name));
  KILN_ASSERT(v.has_value(), "objective key '" + name + "' is not a number");
  return *v;
}

bool ObjectiveOptions::flag(const std::string& name) const { return text(name) == "true"; }

}  // namespace kiln
