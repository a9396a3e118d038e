// The reference device: a plain, deterministic interpreter of a Function, op by op, in the
// order the function lists them. It is the oracle that every pass and backend is tested against.
//
// State semantics: every state_read sees the value the state had when the function was called;
// state_assign values are committed when the function returns (so op order never matters).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"
#include "eval/tensor.h"

namespace kiln::ref {

using StateStore = std::map<std::string, Tensor>;

// The initial value of one state variable, from its initializer.
Tensor initialValue(const StateVar& s);
// Every state variable of the module at its initial value.
Expected<StateStore> initialState(const Module& m);

// Runs `f` on `inputs` (one per parameter, matching its type). Reads and updates `state`.
Expected<std::vector<Tensor>> run(const Module& m, const Function& f, const std::vector<Tensor>& inputs,
                                  StateStore& state);

// Evaluates one op on operand values (used by constant folding too).
Expected<std::vector<Tensor>> evalOp(const Op& op, const std::vector<const Tensor*>& operands,
                                     const StateStore* state);

}  // namespace kiln::ref
