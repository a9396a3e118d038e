// The portable kernel of a `fused` op: its program evaluated element by element over strided
// operands. The reference device runs it in f64; the cpu device runs generated code instead and
// falls back to this when a kernel library lacks the op (slower, same results to rounding).
#pragma once

#include <cmath>
#include <vector>

#include "ir/fused_expr.h"
#include "ir/shape_inference.h"
#include "eval/kernels/kernels.h"
#include "eval/kernels/scalar_math.h"

namespace kiln::kernels {

// out = program(in...) with numpy broadcasting of every operand to out's shape.
template <class T>
void fusedMap(const FusedExpr& e, const std::vector<View<const T>>& in, View<T> out) {
  const Shape& s = out.type.shape;
  std::vector<std::vector<int64_t>> strides;
  for (const auto& v : in) strides.push_back(broadcastStrides(v.type.shape, s));
  IndexWalker w(s, std::move(strides));
  std::vector<T> temps(e.instrs.size());
  auto value = [&](const FusedArg& a) -> T {
    switch (a.kind) {
      case FusedArg::Input: return in[size_t(a.index)][w.offset(size_t(a.index))];
      case FusedArg::Temp: return temps[size_t(a.index)];
      case FusedArg::Constant: return T(a.value);
    }
    return T(0);
  };
  for (int64_t i = 0; i < out.size(); ++i, w.next()) {
    for (size_t j = 0; j < e.instrs.size(); ++j) {
      const FusedInstr& ins = e.instrs[j];
      temps[j] = scalarMath<T>(ins.prim, value(ins.args[0]), ins.args.size() > 1 ? value(ins.args[1]) : T(0));
    }
    out[i] = temps.back();
  }
}

// out = program(in...) summed over the broadcast shape's dims from `axis` on (out holds the
// dims before it), accumulated in f64.
template <class T>
void fusedSum(const FusedExpr& e, const std::vector<View<const T>>& in, int64_t axis, View<T> out) {
  Shape whole;
  for (const auto& v : in) whole = *broadcastShapes(whole, v.type.shape);
  int64_t inner = 1;
  for (size_t d = size_t(axis); d < whole.size(); ++d) inner *= whole[d];
  std::vector<T> values(static_cast<size_t>(out.size() * inner));
  fusedMap(e, in, View<T>(TensorType{out.type.dtype, whole}, values.data()));
  for (int64_t r = 0; r < out.size(); ++r) {
    double sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += double(values[size_t(r * inner + i)]);
    out[r] = T(sum);
  }
}

}  // namespace kiln::kernels
