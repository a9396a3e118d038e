// A pass: IR in, IR out. Each pass states its algorithm and invariants above its class and
// reports whether it changed anything.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

class Pass {
 public:
  virtual ~Pass() = default;
  // The kebab-case name used on the command line (--passes=, --print-ir-after=).
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Transforms the module in place; returns whether the IR changed, or why the module cannot
  // be transformed (e.g. a loss that is not a scalar).
  virtual Expected<bool> run(Module& m) = 0;
};

// A pass that transforms each function on its own and cannot fail.
class FunctionPass : public Pass {
 public:
  Expected<bool> run(Module& m) override {
    bool changed = false;
    for (auto& f : m.functions) changed |= runOn(*f);
    return changed;
  }

 protected:
  virtual bool runOn(Function& f) = 0;  // whether f changed
};

// Pass options as written in a pipeline: `optimizer{kind=sgd,lr=0.1}`.
using PassOptions = std::map<std::string, std::string>;

// Uses of each value by the function's ops; a function output counts as two, so an output never
// looks like a value with a single use that a fusion could absorb.
std::unordered_map<const Value*, int> countUses(const Function& f);

// Splits a list-valued option ("x:y:z").
std::vector<std::string> splitOptionList(const std::string& value);

// Creates a registered pass by name with its options; an unknown name or option is an error.
Expected<std::unique_ptr<Pass>> createPass(const std::string& name, const PassOptions& options = {});
std::vector<std::string> registeredPassNames();

// The passes themselves.
std::unique_ptr<Pass> createDeadCodeElimination();
std::unique_ptr<Pass> createCommonSubexpressionElimination();
std::unique_ptr<Pass> createCanonicalize();
std::unique_ptr<Pass> createSchedule();
std::unique_ptr<Pass> createPadsToConcat();
std::unique_ptr<Pass> createFuseAdamW();
std::unique_ptr<Pass> createFuseResidualNorm();
std::unique_ptr<Pass> createFuseReductions();
std::unique_ptr<Pass> createFuseCrossEntropy();
std::unique_ptr<Pass> createFuseAttention();
std::unique_ptr<Pass> createShardOptimizer();
Expected<std::unique_ptr<Pass>> createFuseMatmulEpiloguePass(const PassOptions& options);
Expected<std::unique_ptr<Pass>> createAutodiffPass(const PassOptions& options);
Expected<std::unique_ptr<Pass>> createOptimizerPass(const PassOptions& options);
Expected<std::unique_ptr<Pass>> createFuseElementwisePass(const PassOptions& options);
Expected<std::unique_ptr<Pass>> createMixedPrecisionPass(const PassOptions& options);
Expected<std::unique_ptr<Pass>> createDataParallelPass(const PassOptions& options);

}  // namespace kiln
