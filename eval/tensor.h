// A tensor on the reference device: a type and its elements as doubles in row-major order.
// Every element is rounded to the tensor's dtype after each op (see roundToDType), so f32
// results are exactly those of f32 storage while arithmetic is carried out in f64.
// Integer values are exact up to 2^53.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/types.h"
#include "eval/kernels/view.h"

namespace kiln::ref {

using kernels::rowMajorStrides;

struct Tensor {
  TensorType type;
  std::vector<double> data;

  Tensor() = default;
  explicit Tensor(TensorType t) : type(std::move(t)), data(size_t(type.numElements()), 0.0) {}
  Tensor(TensorType t, std::vector<double> values);  // values.size() must match

  int64_t size() const { return int64_t(data.size()); }
  double& operator[](int64_t i) { return data[size_t(i)]; }
  double operator[](int64_t i) const { return data[size_t(i)]; }
  void roundToType();
  kernels::View<double> view() { return {type, data.data()}; }
  kernels::View<const double> view() const { return {type, data.data()}; }
  bool operator==(const Tensor&) const = default;
};

// The largest tensor the reference device will allocate (2^28 elements = 2 GiB of doubles).
inline constexpr int64_t kMaxReferenceElements = int64_t(1) << 28;

// Formats a tensor as nested lists with the shortest exact text per element for its dtype.
std::string formatTensor(const Tensor& t);

}  // namespace kiln::ref
