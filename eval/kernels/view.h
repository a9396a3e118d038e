// Views of tensor storage shared by the kernels of every device, and strided index walking.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/types.h"

namespace kiln::kernels {

// A tensor's type and a pointer to its row-major elements; the storage belongs to the device.
template <class T>
struct View {
  TensorType type;
  T* data = nullptr;
  int64_t n = 0;

  View() = default;
  View(TensorType t, T* d) : type(std::move(t)), data(d), n(type.numElements()) {}
  template <class U>
  View(const View<U>& other) : type(other.type), data(other.data), n(other.n) {}  // T* from U*
  int64_t size() const { return n; }
  T& operator[](int64_t i) const { return data[i]; }
};

std::vector<int64_t> rowMajorStrides(const Shape& s);

// Whether `in` broadcasts to `out` by repeating it whole: after its leading 1s, its shape is the
// tail of out's (a bias [C] against [B, T, C], a scalar against anything).
bool repeatsWhole(const Shape& in, const Shape& out);

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

}  // namespace kiln::kernels
