#include "ir/types.h"

#include <cmath>
#include <cstring>

namespace kiln {

std::string_view dtypeName(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
    case DType::F64: return "f64";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
  }
  return "?";
}

std::optional<DType> parseDType(std::string_view name) {
  for (DType t : kAllDTypes)
    if (dtypeName(t) == name) return t;
  return std::nullopt;
}

bool isFloat(DType t) {
  return t == DType::F32 || t == DType::BF16 || t == DType::F16 || t == DType::F64;
}
bool isInteger(DType t) { return t == DType::I32 || t == DType::I64; }

int dtypeBytes(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

namespace {

// Rounds a float to `mantissaBits` explicit mantissa bits and an exponent range of
// [minExp, maxExp] (normal numbers), with subnormals, round-to-nearest-even and overflow to inf.
double roundToFormat(double v, int mantissaBits, int minExp, int maxExp) {
  if (std::isnan(v) || std::isinf(v) || v == 0.0) return v;
  int e;
  std::frexp(v, &e);  // v = m * 2^e, 0.5 <= |m| < 1, so the leading bit has weight 2^(e-1)
  int lead = e - 1;
  if (lead < minExp) lead = minExp;  // subnormal: fixed quantum
  double quantum = std::ldexp(1.0, lead - mantissaBits);
  double r = std::nearbyint(v / quantum) * quantum;  // default rounding mode: ties to even
  double maxFinite = std::ldexp(2.0 - std::ldexp(1.0, -mantissaBits), maxExp);
  if (std::fabs(r) > maxFinite) return std::copysign(INFINITY, v);
  return r;
}

}  // namespace

double roundToDType(double v, DType t) {
  switch (t) {
    case DType::F64: return v;
    case DType::F32: return double(float(v));
    case DType::BF16: return roundToFormat(v, 7, -126, 127);
    case DType::F16: return roundToFormat(v, 10, -14, 15);
    case DType::I32: {
      if (std::isnan(v)) return 0;
      double tv = std::trunc(v);
      if (tv >= 9.2e18 || tv <= -9.2e18) return 0;
      return double(int32_t(uint32_t(uint64_t(int64_t(tv)))));
    }
    case DType::I64: {
      if (std::isnan(v)) return 0;
      double tv = std::trunc(v);
      if (tv >= 9.2e18 || tv <= -9.2e18) return 0;
      return tv;
    }
    case DType::Bool: return v != 0.0 ? 1.0 : 0.0;
  }
  return v;
}

int64_t TensorType::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shapeStr(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

std::string TensorType::str() const { return std::string(dtypeName(dtype)) + shapeStr(shape); }

}  // namespace kiln
