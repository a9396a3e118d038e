// A target's compile half: what the compiler needs to know of a device and what it writes for
// it. Each target lives in one folder under targets/ with this half and its run half (a device
// registered with runtime/engine/device_registry.h); targets/targets.def lists them.
#pragma once

#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "compiler/memory_plan.h"
#include "compiler/pass.h"
#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;  // one line for --help
  // Passes this target runs after the common pipeline and before scheduling (its fusions).
  virtual std::vector<std::string> passes() const { return {}; }
  // The options it runs one of its passes with (e.g. the element type its kernels compute in).
  virtual PassOptions passOptions(const std::string& pass) const {
    (void)pass;
    return {};
  }
  // Bytes of one stored element on the device, whatever the dtype but bf16, stored natively
  // (ir/views.h storedElementBytes; 0: each dtype's own width).
  virtual int elementBytes() const { return 0; }
  // Scratch bytes outside the arena to run `f` (the device's workspace rule).
  virtual int64_t workspaceBytes(const Function& f) const {
    (void)f;
    return 0;
  }
  // The model dtypes (model.dtype) the device computes as written; a spec asking for another is
  // refused at compile time rather than computed in a different precision.
  virtual std::vector<DType> computeTypes() const = 0;
  // The narrower types matmul and attention inputs may be rounded to under mixed precision
  // (model.compute_dtype; compiler/precision), beside model.dtype.
  virtual std::vector<DType> mixedPrecisionTypes() const { return {}; }
  // Why computing in `narrow` will be slower than f32 on this machine (empty: it will not be).
  virtual std::string mixedPrecisionWarning(DType narrow) const {
    (void)narrow;
    return "";
  }
  // Writes what the device needs into the executable's sections (kernels, memory plans); says
  // what it did on `log` unless quiet.
  virtual Status emit(const Module& m, std::map<std::string, std::string>& sections, std::ostream& log,
                      bool quiet) const = 0;

  // The source of the kernels it generates, before lowering (kiln compile --emit-kernels);
  // empty when it generates none.
  virtual Expected<std::string> kernelSource(const Module& m) const {
    (void)m;
    return std::string();
  }

  // The memory plan of `f` with this target's storage width and workspace.
  MemoryPlan planMemory(const Module& m, const Function& f) const;
};

void registerTarget(std::unique_ptr<Target> target);
const Target* findTarget(const std::string& name);
std::vector<std::string> targetNames();
std::string targetNameList();  // "cpu or reference"
// Found, or an error listing the targets there are.
Expected<const Target*> lookupTarget(const std::string& name);

}  // namespace kiln
