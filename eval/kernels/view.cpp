#include "eval/kernels/view.h"

namespace kiln::kernels {

std::vector<int64_t> rowMajorStrides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

std::vector<int64_t> broadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> inStrides = rowMajorStrides(in);
  std::vector<int64_t> st(out.size(), 0);
  size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) st[lead + i] = in[i] == 1 ? 0 : inStrides[i];
  return st;
}

IndexWalker::IndexWalker(const Shape& shape, std::vector<std::vector<int64_t>> strides)
    : shape_(shape), strides_(std::move(strides)), idx_(shape.size(), 0), off_(strides_.size(), 0) {}

void IndexWalker::next() {
  for (size_t d = shape_.size(); d-- > 0;) {
    ++idx_[d];
    for (size_t k = 0; k < strides_.size(); ++k) off_[k] += strides_[k][d];
    if (idx_[d] < shape_[d]) return;
    for (size_t k = 0; k < strides_.size(); ++k) off_[k] -= strides_[k][d] * idx_[d];
    idx_[d] = 0;
  }
}

bool repeatsWhole(const Shape& in, const Shape& out) {
  size_t lead = 0;
  while (lead < in.size() && in[lead] == 1) ++lead;
  size_t rest = in.size() - lead;
  if (rest > out.size()) return false;
  for (size_t i = 0; i < rest; ++i)
    if (in[lead + i] != out[out.size() - rest + i]) return false;
  return true;
}

}  // namespace kiln::kernels
