// Inputs for `kiln ir --run`: read from a file, or drawn from a seed.
//
// File format: one `%param = <values>` per parameter, values as (optionally nested) lists of
// numbers in row-major order, `true`/`false` for bool; `#` starts a comment.
//     %x = [[1.5, 2], [3, 4]]
//     %labels = [0, 3]
#pragma once

#include <string>
#include <vector>

#include "ir/module.h"
#include "eval/tensor.h"

namespace kiln {

Expected<std::vector<ref::Tensor>> readRunInputs(const Function& f, const std::string& path);
// Floats ~ N(0, 1); integers uniform in [0, intRange); bools fair coins. Counter-based, so the
// same seed gives the same inputs everywhere.
std::vector<ref::Tensor> drawRunInputs(const Function& f, uint64_t seed, int64_t intRange);

}  // namespace kiln
