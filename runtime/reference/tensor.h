// A tensor on the reference device: a type and its elements as doubles in row-major order.
// Every element is rounded to the tensor's dtype after each op (see roundToDType), so f32
// results are exactly those of f32 storage while arithmetic is carried out in f64.
// Integer values are exact up to 2^53.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/types.h"

namespace kiln::ref {

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
  bool operator==(const Tensor&) const = default;
};

// The largest tensor the reference device will allocate (2^28 elements = 2 GiB of doubles).
inline constexpr int64_t kMaxReferenceElements = int64_t(1) << 28;

std::vector<int64_t> rowMajorStrides(const Shape& s);

// Strides that read a tensor of shape `in` as if broadcast to `out` (0 along broadcast dims),
// aligned to out's rank.
std::vector<int64_t> broadcastStrides(const Shape& in, const Shape& out);

// Iterates the multi-indices of `shape` in row-major order while tracking the flat offsets of
// several operands given their strides. Used by every strided kernel.
class IndexWalker {
 public:
  IndexWalker(const Shape& shape, std::vector<std::vector<int64_t>> strides);
  const std::vector<int64_t>& index() const { return idx_; }
  int64_t offset(size_t operand) const { return off_[operand]; }
  void next();

 private:
  Shape shape_;
  std::vector<std::vector<int64_t>> strides_;
  std::vector<int64_t> idx_;
  std::vector<int64_t> off_;
};

// Formats a tensor as nested lists with the shortest exact text per element for its dtype.
std::string formatTensor(const Tensor& t);

}  // namespace kiln::ref
