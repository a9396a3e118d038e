// A pass: IR in, IR out. Each pass states its algorithm and invariants above its class and
// reports whether it changed anything.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"

namespace kiln {

class Pass {
 public:
  virtual ~Pass() = default;
  // The kebab-case name used on the command line (--passes=, --print-ir-after=).
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Transforms the module in place; returns whether the IR changed.
  virtual bool run(Module& m) = 0;
};

// Every registered pass, by name; nullptr for an unknown name.
std::unique_ptr<Pass> createPass(const std::string& name);
std::vector<std::string> registeredPassNames();

// The passes themselves (compiler/transforms/).
std::unique_ptr<Pass> createDeadCodeElimination();
std::unique_ptr<Pass> createCommonSubexpressionElimination();
std::unique_ptr<Pass> createCanonicalize();

}  // namespace kiln
