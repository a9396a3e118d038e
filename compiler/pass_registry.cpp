#include <functional>
#include <map>

#include "compiler/pass.h"

namespace kiln {

namespace {
const std::map<std::string, std::function<std::unique_ptr<Pass>()>>& registry() {
  static const std::map<std::string, std::function<std::unique_ptr<Pass>()>> r = {
      {"canonicalize", createCanonicalize},
      {"cse", createCommonSubexpressionElimination},
      {"dce", createDeadCodeElimination},
  };
  return r;
}
}  // namespace

std::unique_ptr<Pass> createPass(const std::string& name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second();
}

std::vector<std::string> registeredPassNames() {
  std::vector<std::string> names;
  for (const auto& [n, f] : registry()) names.push_back(n);
  return names;
}

}  // namespace kiln
