#include <functional>
#include <map>

#include "compiler/pass.h"
#include "compiler/remat/rematerialize.h"
#include "ir/suggest.h"

namespace kiln {

namespace {

using Factory = std::function<Expected<std::unique_ptr<Pass>>(const PassOptions&)>;

// A factory for a pass that takes no options.
template <std::unique_ptr<Pass> (*Create)()>
Expected<std::unique_ptr<Pass>> withoutOptions(const PassOptions& options) {
  if (!options.empty()) {
    auto p = Create();
    return makeError({}, "pass '" + p->name() + "' takes no options, got '" + options.begin()->first + "'");
  }
  return Create();
}

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> r = {
      {"autodiff", createAutodiffPass},
      {"canonicalize", withoutOptions<createCanonicalize>},
      {"cse", withoutOptions<createCommonSubexpressionElimination>},
      {"data-parallel", createDataParallelPass},
      {"dce", withoutOptions<createDeadCodeElimination>},
      {"fuse-elementwise", createFuseElementwisePass},
      {"fuse-matmul-epilogue", createFuseMatmulEpiloguePass},
      {"mixed-precision", createMixedPrecisionPass},
      {"optimizer", createOptimizerPass},
      {"pads-to-concat", withoutOptions<createPadsToConcat>},
      {"remat", createRematerializePass},
      {"fuse-adamw", withoutOptions<createFuseAdamW>},
      {"fuse-residual-norm", withoutOptions<createFuseResidualNorm>},
      {"fuse-reductions", withoutOptions<createFuseReductions>},
      {"fuse-cross-entropy", withoutOptions<createFuseCrossEntropy>},
      {"fuse-attention", withoutOptions<createFuseAttention>},
      {"schedule", withoutOptions<createSchedule>},
      {"shard-optimizer", withoutOptions<createShardOptimizer>},
  };
  return r;
}

}  // namespace

Expected<std::unique_ptr<Pass>> createPass(const std::string& name, const PassOptions& options) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : registeredPassNames()) known += (known.empty() ? "" : ", ") + n;
    std::string hint = nearestName(name, registeredPassNames());
    return makeError({}, "unknown pass '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                             "; known passes: " + known);
  }
  return it->second(options);
}

std::vector<std::string> splitOptionList(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < value.size()) {
    size_t end = value.find(':', start);
    std::string item = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    start = end == std::string::npos ? value.size() : end + 1;
  }
  return out;
}

std::vector<std::string> registeredPassNames() {
  std::vector<std::string> names;
  for (const auto& [n, f] : registry()) names.push_back(n);
  return names;
}

}  // namespace kiln
