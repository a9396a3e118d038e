// Definitions of the templates declared in kernels.h; included by dispatch.cpp only.
#pragma once

#include <algorithm>

#include "eval/kernels/kernels.h"

namespace kiln::kernels {

// out[i] = x[base + sum_d index_d(i) * strides[d]]: the strided read behind transpose and slice.
// Output rows (all dims but the last) run in parallel; each row is one strided sweep.
template <class T>
void gatherRows(View<const T> x, int64_t base, const std::vector<int64_t>& strides, View<T> out) {
  const Shape& os = out.type.shape;
  if (os.empty() || out.size() == 0) {
    if (out.size() == 1) out[0] = x[base];
    return;
  }
  const int64_t cols = os.back(), rows = out.size() / cols, colStride = strides.back();
#pragma omp parallel for if (out.size() >= kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t src = base, rem = r;
    for (size_t d = os.size() - 1; d-- > 0;) {
      src += (rem % os[d]) * strides[d];
      rem /= os[d];
    }
    T* dst = out.data + r * cols;
    if (colStride == 1) {  // the last dim stays last (head splits, slices): a block copy
      std::copy(x.data + src, x.data + src + cols, dst);
      continue;
    }
    for (int64_t c = 0; c < cols; ++c) dst[c] = x[src + c * colStride];
  }
}

template <class T>
void transpose(View<const T> x, const std::vector<int64_t>& perm, View<T> out) {
  std::vector<int64_t> inStrides = rowMajorStrides(x.type.shape);
  std::vector<int64_t> st(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) st[d] = inStrides[size_t(perm[d])];
  gatherRows(x, 0, st, out);
}

template <class T>
void broadcastTo(View<const T> x, View<T> out) {
  IndexWalker w(out.type.shape, {broadcastStrides(x.type.shape, out.type.shape)});
  for (int64_t i = 0; i < out.size(); ++i, w.next()) out[i] = x[w.offset(0)];
}

template <class T>
void slice(View<const T> x, const std::vector<int64_t>& start, const std::vector<int64_t>& stride,
           View<T> out) {
  std::vector<int64_t> inStrides = rowMajorStrides(x.type.shape);
  int64_t base = 0;
  std::vector<int64_t> st(inStrides.size());
  for (size_t d = 0; d < st.size(); ++d) {
    base += start[d] * inStrides[d];
    st[d] = inStrides[d] * (stride.empty() ? 1 : stride[d]);
  }
  gatherRows(x, base, st, out);
}

template <class T>
void concat(const std::vector<View<const T>>& xs, int axis, View<T> out) {
  // Each input is `outer` contiguous chunks of (its extent along axis) x inner elements, which
  // land at a fixed stride in out: block copies, parallel over the chunks.
  const Shape& os = out.type.shape;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= os[size_t(d)];
  for (size_t d = size_t(axis) + 1; d < os.size(); ++d) inner *= os[d];
  const int64_t outChunk = os[size_t(axis)] * inner;
  int64_t at = 0;
  for (const View<const T>& x : xs) {
    const int64_t chunk = x.type.shape[size_t(axis)] * inner;
    // Big single chunks (axis 0) are split so both cores copy.
    const int64_t pieces = outer == 1 ? std::max<int64_t>(1, chunk / kParallelGrain) : 1;
    const int64_t piece = (chunk + pieces - 1) / pieces;
#pragma omp parallel for collapse(2) if (x.size() >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t pi = 0; pi < pieces; ++pi) {
        const int64_t from = pi * piece, to = std::min(chunk, from + piece);
        if (from < to) std::copy(x.data + o * chunk + from, x.data + o * chunk + to, out.data + o * outChunk + at + from);
      }
    at += chunk;
  }
}

template <class T>
void pad(View<const T> x, const std::vector<int64_t>& low, const std::vector<int64_t>& interior, double value,
         View<T> out) {
  std::fill(out.data, out.data + out.size(), T(value));
  std::vector<int64_t> outStrides = rowMajorStrides(out.type.shape);
  int64_t base = 0;
  for (size_t d = 0; d < low.size(); ++d) base += low[d] * outStrides[d];
  std::vector<int64_t> steps = outStrides;
  for (size_t d = 0; d < interior.size(); ++d) steps[d] *= interior[d] + 1;
  IndexWalker w(x.type.shape, {steps});
  for (int64_t i = 0; i < x.size(); ++i, w.next()) out[base + w.offset(0)] = x[i];
}

namespace {

// table viewed as [outer, D, inner]; indices flattened to [J].
struct IndexedView {
  int64_t outer = 1, dim = 0, inner = 1, count = 0;
  template <class T>
  IndexedView(View<const T> table, View<const T> indices, int axis) {
    const Shape& s = table.type.shape;
    for (int d = 0; d < axis; ++d) outer *= s[size_t(d)];
    dim = s[size_t(axis)];
    for (size_t d = size_t(axis) + 1; d < s.size(); ++d) inner *= s[d];
    count = indices.size();
  }
};

template <class T>
std::string checkIndices(View<const T> indices, int64_t dim) {
  for (int64_t j = 0; j < indices.size(); ++j)
    if (indices[j] < 0 || indices[j] >= double(dim))
      return "index " + std::to_string(int64_t(indices[j])) + " at position " + std::to_string(j) +
             " is out of range [0, " + std::to_string(dim) + ")";
  return {};
}

}  // namespace

template <class T>
std::string gather(View<const T> table, View<const T> indices, int axis, View<T> out) {
  IndexedView v(table, indices, axis);
  if (auto e = checkIndices(indices, v.dim); !e.empty()) return e;
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < v.count; ++j) {
      int64_t src = (o * v.dim + int64_t(indices[j])) * v.inner;
      int64_t dst = (o * v.count + j) * v.inner;
      for (int64_t k = 0; k < v.inner; ++k) out[dst + k] = table[src + k];
    }
  return {};
}

template <class T>
std::string scatterAdd(View<const T> target, View<const T> indices, View<const T> updates, int axis,
                       View<T> out) {
  IndexedView v(target, indices, axis);
  if (auto e = checkIndices(indices, v.dim); !e.empty()) return e;
  std::copy(target.data, target.data + target.size(), out.data);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < v.count; ++j) {
      int64_t dst = (o * v.dim + int64_t(indices[j])) * v.inner;
      int64_t src = (o * v.count + j) * v.inner;
      for (int64_t k = 0; k < v.inner; ++k) out[dst + k] += updates[src + k];
    }
  return {};
}

}  // namespace kiln::kernels
