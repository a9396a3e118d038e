// How the cpu and cuda devices store bf16 values: natively, two bytes per element (in a slot the
// memory plan sized for four), so their bf16 matmuls (oneDNN, cuBLASLt) read them as they are.
// Every other value is stored as f32. These convert between the two where the host needs it.
#pragma once

#include <cstdint>

#include "ir/module.h"

namespace kiln {

inline bool storedAsBf16(const Value* v) { return v->type.dtype == DType::BF16; }

// f32 to bf16, rounding to nearest even; subnormals and overflow to inf as roundToDType, NaN
// kept (quiet).
void roundToBf16(const float* from, uint16_t* to, int64_t n);
// bf16 to f32 (exact).
void widenBf16(const uint16_t* from, float* to, int64_t n);

}  // namespace kiln
