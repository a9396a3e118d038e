// Activation recomputation: fit a function's memory plan into a limit by recomputing values in
// the backward pass instead of keeping them from the forward pass (see rematerialize.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "compiler/memory_plan.h"
#include "compiler/pass.h"

namespace kiln {

// What the pass did, for `kiln info` and the compile log.
struct RematReport {
  int64_t limitBytes = 0;
  int64_t peakBefore = 0;  // planned bytes of the function before (MemoryPlan::totalBytes)
  int64_t peakAfter = 0;
  int ops = 0;              // ops recomputed (views not counted)
  double flops = 0;         // FLOPs they add per call (ir/cost_model.h)
  std::string summary() const;  // one line
};

struct RematConfig {
  int64_t limitBytes = 0;  // the planned total the function must fit in
  std::string function = "train_step";
  // The memory plan the limit applies to (a target's: its storage width and workspace).
  std::function<MemoryPlan(const Module&, const Function&)> plan;
  int elementBytes = 0;     // the storage width the plan uses (0: each dtype's own)
  Location source;          // where the limit was set, for the error when it cannot be met
  std::string limitName = "the memory limit";  // "train.memory_limit", "--memory-limit"
  RematReport* report = nullptr;  // filled in when given
};

std::unique_ptr<Pass> createRematerialize(RematConfig config);
// `remat{limit=SIZE,function=NAME,element_bytes=N}` for pipelines written as text (kiln ir):
// the limit applies to planMemory's total.
Expected<std::unique_ptr<Pass>> createRematerializePass(const PassOptions& options);

}  // namespace kiln
