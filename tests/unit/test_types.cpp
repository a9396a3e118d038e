#include <cmath>

#include "ir/types.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("dtype names round-trip") {
  for (DType t : kAllDTypes) CHECK(parseDType(dtypeName(t)) == t);
  CHECK_FALSE(parseDType("f8").has_value());
  CHECK(dtypeBytes(DType::BF16) == 2);
  CHECK(isFloat(DType::BF16));
  CHECK_FALSE(isFloat(DType::I64));
  CHECK(isInteger(DType::I32));
  CHECK_FALSE(isInteger(DType::Bool));
}

TEST_CASE("tensor types print and count elements") {
  TensorType t{DType::F32, {8, 256, 384}};
  CHECK(t.str() == "f32[8,256,384]");
  CHECK(t.numElements() == 8 * 256 * 384);
  CHECK(TensorType{DType::I32, {}}.str() == "i32[]");
  CHECK(TensorType{DType::I32, {}}.numElements() == 1);
  CHECK(TensorType{DType::Bool, {3, 0}}.numElements() == 0);
}

TEST_CASE("rounding to each dtype") {
  CHECK(roundToDType(0.1, DType::F32) == double(0.1f));
  CHECK(roundToDType(0.1, DType::F64) == 0.1);
  // bf16: 8 significant bits. 1 + 2^-8 ties to even (1); 1 + 3*2^-8 ties up to 1 + 2^-6.
  CHECK(roundToDType(1.0 + std::ldexp(1, -8), DType::BF16) == 1.0);
  CHECK(roundToDType(1.0 + 3 * std::ldexp(1, -8), DType::BF16) == 1.0 + std::ldexp(1, -6));
  CHECK(roundToDType(3.38e38, DType::BF16) == 254 * std::ldexp(1, 120));
  CHECK(std::isinf(roundToDType(3.4e38, DType::BF16)));  // past the midpoint above the largest finite
  CHECK(std::isinf(roundToDType(1e39, DType::BF16)));
  // f16: max 65504, smallest subnormal 2^-24.
  CHECK(roundToDType(65504, DType::F16) == 65504);
  CHECK(std::isinf(roundToDType(65520, DType::F16)));
  CHECK(roundToDType(std::ldexp(1, -24), DType::F16) == std::ldexp(1, -24));
  CHECK(roundToDType(std::ldexp(1, -26), DType::F16) == 0.0);
  CHECK(roundToDType(2049, DType::F16) == 2048);  // 11 significant bits, tie to even
  CHECK(roundToDType(2051, DType::F16) == 2052);
  // Integers truncate and wrap; bool is 0 or 1.
  CHECK(roundToDType(-2.7, DType::I32) == -2);
  CHECK(roundToDType(2147483648.0, DType::I32) == -2147483648.0);
  CHECK(roundToDType(5e9, DType::I64) == 5e9);
  CHECK(roundToDType(-0.5, DType::Bool) == 1);
  CHECK(roundToDType(0.0, DType::Bool) == 0);
  CHECK(std::isnan(roundToDType(NAN, DType::F16)));
}
}  // namespace kiln
