// Element types and statically shaped tensor types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class DType { F32, BF16, F16, F64, I32, I64, Bool };

inline constexpr DType kAllDTypes[] = {DType::F32, DType::BF16, DType::F16, DType::F64,
                                       DType::I32, DType::I64,  DType::Bool};

std::string_view dtypeName(DType t);
std::optional<DType> parseDType(std::string_view name);
bool isFloat(DType t);
bool isInteger(DType t);  // i32, i64 (not bool)
int dtypeBytes(DType t);

// Rounds a value to what the dtype can hold: the reference device stores every element as a
// double and applies this after each op, so f32/bf16/f16 results are exactly what such storage
// would hold (round to nearest even), integers wrap as two's complement, bool is 0 or 1.
double roundToDType(double v, DType t);

// Limits on static shapes, so absurd sizes in user input are rejected instead of overflowing.
inline constexpr int kMaxRank = 8;
inline constexpr int64_t kMaxDim = int64_t(1) << 40;
inline constexpr int64_t kMaxElements = int64_t(1) << 40;

using Shape = std::vector<int64_t>;

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;

  int rank() const { return int(shape.size()); }
  int64_t numElements() const;
  std::string str() const;  // e.g. "f32[8,256,384]", scalar "f32[]"
  bool operator==(const TensorType&) const = default;
};

std::string shapeStr(const Shape& s);  // "[8,256,384]"

}  // namespace kiln
