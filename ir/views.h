// Values that are views of another value's storage: a reshape, a slice taking one contiguous
// run of its operand, or an all_reduce (which reduces its operand's storage in place). Both never copy; the memory plan places them inside their operand's block
// and every device binds them there.
#pragma once

#include <cstdint>

#include "ir/module.h"

namespace kiln {

// Whether a slice takes one contiguous run of its operand (unit strides; dims before the first
// cut have extent 1, dims after it are whole), so its result can be a view.
bool isContiguousSlice(const Op& op);
// A reshape, a contiguous slice or an all_reduce (null: no).
bool isView(const Op* op);
int64_t sliceOffset(const Op& slice);  // its first element's position in the operand
// The value whose storage `v` views: through reshapes and contiguous slices, else v itself;
// `viewOffset` is where v starts in it, in elements.
const Value* aliasOf(const Value* v);
int64_t viewOffset(const Value* v);
int64_t typeBytes(const TensorType& t);
// Bytes of one element as a device storing values `elementBytes` wide keeps it: that width for
// every dtype but bf16, which such a device stores natively (2 bytes, for its bf16 products);
// each dtype's own width when `elementBytes` is 0.
int64_t storedElementBytes(DType t, int elementBytes);
inline int64_t storedBytes(const TensorType& t, int elementBytes) { return t.numElements() * storedElementBytes(t.dtype, elementBytes); }

}  // namespace kiln
