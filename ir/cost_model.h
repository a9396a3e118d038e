// Static costs of a module: parameter count and FLOPs per call.
#pragma once

#include <cstdint>

#include "ir/module.h"

namespace kiln {

// FLOPs of one call of `f`: 2MNK per matmul (batch included) and the attention matmuls
// (forward 2 B H T S (D + Dv); the backward twice that).
// (Causal attention counts the full product, as the benchmarks' FLOP formulas do.)
double countFlops(const Function& f);
double opFlops(const Op& op);  // one op's share of countFlops
int64_t countParameters(const Module& m);

}  // namespace kiln
