// Where each value of a function lives on a device that runs from one arena: a byte offset in
// the arena, or the buffer of the state it replaces. The compiler plans it (compiler/memory_plan)
// once; the executable stores it as text (section "<target>.arena_plan") and the device loads it.
//
// Text form, versioned and checked on load (values named by op index and result index, which
// the module text preserves):
//   kiln-arena-plan 1
//   func @train_step ops 812 arena 4245504
//   value 3.0 offset 0
//   value 9.2 state optimizer.m.wte.weight
//   end
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/diagnostics.h"
#include "ir/module.h"

namespace kiln {

struct ArenaPlan {
  int64_t arenaBytes = 0;  // peak of the value arena (activations, gradients, temporaries)
  std::map<const Value*, int64_t> offsets;
  // Results written straight into the buffer of the state they replace (no arena space).
  std::map<const Value*, std::string> inState;
};
using ArenaPlans = std::map<std::string, ArenaPlan>;  // by function name

inline constexpr int kArenaPlanVersion = 1;

std::string formatArenaPlans(const Module& m, const ArenaPlans& plans);
// Checks the version, that every function exists with the op count it was planned for, that
// every value reference exists, that each value fits in the arena at `elementBytes` per element (bf16: 2)
// and that in-state targets are states of the module. Errors name `where` and the line.
Expected<ArenaPlans> parseArenaPlans(const Module& m, const std::string& text, const std::string& where,
                                     int elementBytes);

}  // namespace kiln
