// An Engine runs a module's functions on one device and owns the module's state there. The
// trainer talks only to this interface; checkpoints go through snapshot() and restore().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"
#include "eval/interpreter.h"

namespace kiln {

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string device() const = 0;
  // Calls function `fn` (inputs and outputs are host tensors; state stays on the device).
  virtual Expected<std::vector<ref::Tensor>> call(const std::string& fn, const std::vector<ref::Tensor>& inputs) = 0;
  virtual ref::StateStore snapshot() const = 0;
  // One state variable as a host tensor (checkpoints stream these one at a time).
  virtual ref::Tensor stateTensor(const std::string& name) const = 0;
  virtual void setStateTensor(const std::string& name, const ref::Tensor& value) = 0;
  virtual Status restore(const ref::StateStore& state) = 0;
  // States each data-parallel rank holds a shard of (optimizer-state sharding), in name order:
  // stateTensor() of one gathers it from every rank, so every rank must ask for them together, in
  // this order (the checkpoint writer's).
  virtual std::vector<std::string> shardedStates() const { return {}; }

  // Time per op kind and per model component, accumulated over calls while enabled.
  struct ProfileEntry {
    std::string key;
    double seconds;
    int64_t calls;
    double flops = 0;  // matmul and attention FLOPs (cost model) done in those calls
  };
  virtual void setProfiling(bool on) { (void)on; }
  virtual std::vector<ProfileEntry> profileByKind() const { return {}; }
  virtual std::vector<ProfileEntry> profileByComponent() const { return {}; }
};

// That `inputs` are what `f` takes, in number and type (an engine's call checks it first).
Status checkCallInputs(const Function& f, const std::vector<ref::Tensor>& inputs);

}  // namespace kiln
