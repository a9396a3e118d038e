// Memory planning for one function: liveness intervals over the op order and offsets in one
// arena, reusing the space of values that are dead. State lives outside the arena and is
// counted by category. The reference device does not run from the arena; the cpu device does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ir/arena_plan.h"
#include "ir/module.h"
#include "ir/views.h"

namespace kiln {

// The arena plan (ir/arena_plan.h) and what it costs, by category: parameters, optimizer
// state, other state, activations, gradients, and the device's workspace outside the arena.
struct MemoryPlan : ArenaPlan {
  std::map<std::string, int64_t> categories;
  int64_t totalBytes() const;
  std::string summary() const;  // one line per category
  // The same as a JSON object of bytes by category, with "activation arena" and "total planned".
  std::string json() const;
};

// Bytes of scratch memory a device needs outside the arena to run `f` with values stored
// `elementBytes` wide (a target's memory rule; none by default).
using WorkspaceRule = std::function<int64_t(const Function& f, int elementBytes)>;

// `elementBytes` > 0 sizes every element that wide (a device storing all values as f32 uses 4).
MemoryPlan planMemory(const Module& m, const Function& f, int elementBytes = 0, const WorkspaceRule& workspace = {});
// Arena plans of every function of `m`, as a device storing values `elementBytes` wide runs them.
ArenaPlans planArenas(const Module& m, int elementBytes);
// Results an op may write into the state buffer they replace: an adamw_update (or adamw_group)
// result (p', m', v') assigned to the state its matching operand (p, m, v) was read from, when
// nothing reads that state after the update. A state_assign or a function output of the old
// value counts as a read at the end (assignments commit when the call returns). Elementwise,
// so element i is read before it is written.
std::map<const Value*, std::string> inPlaceStateUpdates(const Function& f);

}  // namespace kiln
