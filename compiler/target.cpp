#include "compiler/target.h"

#include "ir/suggest.h"

namespace kiln {

namespace {

std::map<std::string, std::unique_ptr<Target>>& registry() {
  static std::map<std::string, std::unique_ptr<Target>> targets;
  return targets;
}

}  // namespace

MemoryPlan Target::planMemory(const Module& m, const Function& f) const {
  return kiln::planMemory(m, f, elementBytes(),
                          [this](const Function& fn, int) { return workspaceBytes(fn); });
}

void registerTarget(std::unique_ptr<Target> target) {
  std::string name = target->name();
  registry()[name] = std::move(target);
}

const Target* findTarget(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<std::string> targetNames() {
  std::vector<std::string> out;
  for (const auto& [name, t] : registry()) out.push_back(name);
  return out;
}

std::string targetNameList() { return joinAlternatives(targetNames()); }

Expected<const Target*> lookupTarget(const std::string& name) {
  if (const Target* t = findTarget(name)) return t;
  return makeError({}, "unknown target '" + name + "' (kiln knows " + targetNameList() + ")");
}

}  // namespace kiln
