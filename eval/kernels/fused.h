// The portable kernel of a `fused` op: its program evaluated element by element over strided
// operands. The reference device runs it in f64; the cpu device runs generated code instead and
// falls back to this when a kernel library lacks the op (slower, same results to rounding).
#pragma once

#include <cmath>
#include <vector>

#include "ir/fused_expr.h"
#include "ir/shape_inference.h"
#include "eval/kernels/kernels.h"

namespace kiln::kernels {

template <class T>
T fusedPrimitive(FusedPrim p, T a, T b) {
  switch (p) {
    case FusedPrim::Neg: return -a;
    case FusedPrim::Abs: return T(std::fabs(double(a)));
    case FusedPrim::Exp: return T(std::exp(double(a)));
    case FusedPrim::Log: return T(std::log(double(a)));
    case FusedPrim::Sqrt: return T(std::sqrt(double(a)));
    case FusedPrim::Rsqrt: return T(1.0 / std::sqrt(double(a)));
    case FusedPrim::Tanh: return T(std::tanh(double(a)));
    case FusedPrim::Sin: return T(std::sin(double(a)));
    case FusedPrim::Cos: return T(std::cos(double(a)));
    case FusedPrim::Sigmoid: return T(1.0 / (1.0 + std::exp(-double(a))));
    case FusedPrim::Relu: return a > 0 ? a : T(0);
    case FusedPrim::GeluTanh: return geluTanh<T>(a);
    case FusedPrim::GeluErf: return geluErf<T>(a);
    case FusedPrim::Add: return a + b;
    case FusedPrim::Sub: return a - b;
    case FusedPrim::Mul: return a * b;
    case FusedPrim::Div: return a / b;
    case FusedPrim::Max: return (a > b || std::isnan(double(a))) ? a : b;
    case FusedPrim::Min: return (a < b || std::isnan(double(a))) ? a : b;
    case FusedPrim::Pow: return T(std::pow(double(a), double(b)));
    case FusedPrim::GeluGradTanh: {
      const double c = 0.7978845608028654, k = 0.044715, v = double(a);
      double t = std::tanh(c * (v + k * v * v * v));
      return T(double(b) * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * k * v * v)));
    }
    case FusedPrim::GeluGradErf: {
      const double v = double(a);
      double d = 0.5 * (1 + std::erf(v * 0.7071067811865476)) + v * std::exp(-0.5 * v * v) * 0.3989422804014327;
      return T(double(b) * d);
    }
  }
  return T(0);
}

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
      temps[j] = fusedPrimitive<T>(ins.prim, value(ins.args[0]), ins.args.size() > 1 ? value(ins.args[1]) : T(0));
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
