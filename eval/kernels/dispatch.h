// Runs one op's kernel on views of its operands and results. Shared by the reference device
// (T = double) and the cpu device (T = float). For state_read the device passes the state's
// current value as the only operand.
#pragma once

#include <string>
#include <vector>

#include "ir/module.h"
#include "eval/kernels/view.h"

namespace kiln::kernels {

// Returns an error message for data-dependent failures (an index out of range), else "".
template <class T>
std::string runKernel(const Op& op, const std::vector<View<const T>>& in, std::vector<View<T>>& outs);

}  // namespace kiln::kernels
