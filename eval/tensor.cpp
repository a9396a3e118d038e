#include "eval/tensor.h"

#include <charconv>
#include <cmath>

#include "ir/attributes.h"
#include "ir/diagnostics.h"

namespace kiln::ref {

Tensor::Tensor(TensorType t, std::vector<double> values) : type(std::move(t)), data(std::move(values)) {
  KILN_ASSERT(int64_t(data.size()) == type.numElements(), "tensor value count does not match its type");
}

void Tensor::roundToType() {
  if (type.dtype == DType::F64) return;
  for (double& v : data) v = roundToDType(v, type.dtype);
}

static std::string formatElement(double v, DType t) {
  if (t == DType::Bool) return v != 0 ? "true" : "false";
  if (isInteger(t)) return std::to_string(int64_t(v));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = t == DType::F64 ? std::to_chars(buf, buf + sizeof buf, v)
                           : std::to_chars(buf, buf + sizeof buf, float(v));
  return std::string(buf, r.ptr);
}

std::string formatTensor(const Tensor& t) {
  if (t.type.rank() == 0) return formatElement(t.data.at(0), t.type.dtype);
  std::string out;
  std::vector<int64_t> strides = rowMajorStrides(t.type.shape);
  int64_t n = t.size();
  if (n == 0) return std::string(size_t(t.type.rank()), '[') + std::string(size_t(t.type.rank()), ']');
  for (int64_t i = 0; i < n; ++i) {
    int opens = 0;
    for (size_t d = 0; d < strides.size(); ++d)
      if (i % (strides[d] * t.type.shape[d]) == 0) ++opens;
    if (i > 0) out += ", ";
    out += std::string(size_t(opens), '[');
    out += formatElement(t.data[size_t(i)], t.type.dtype);
    int closes = 0;
    for (size_t d = 0; d < strides.size(); ++d)
      if ((i + 1) % (strides[d] * t.type.shape[d]) == 0) ++closes;
    out += std::string(size_t(closes), ']');
  }
  return out;
}

}  // namespace kiln::ref
