// Time per op kind and per model component, as engines accumulate it while profiling
// (Engine::setProfiling): what `train --profile` prints, on any device.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/module.h"
#include "runtime/engine/engine.h"

namespace kiln {

// "fused(add+gelu_tanh)" for fused ops, so the profile says what they compute.
std::string profileKindKey(const Op& op);

// Seconds, calls and FLOPs per key (op kind, or component: the op name up to its layer,
// h.N.attn...).
struct OpProfile {
  struct Row {
    double seconds = 0;
    int64_t calls = 0;
    double flops = 0;
  };
  std::map<std::string, Row> byKind, byComponent;
  // Time spent blocked on other ranks: the communication the step could not hide.
  void addWait(double secs);
  void add(const Op& op, double secs);
  // Rows of `m`, the slowest first.
  static std::vector<Engine::ProfileEntry> entries(const std::map<std::string, Row>& m);
};

}  // namespace kiln
