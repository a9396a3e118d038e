// Each elementwise op's scalar math, written once: the interpreter's elementwise kernels
// (dispatch.cpp, backward.h), the portable kernel of fused programs (fused.h) and the cpu
// device's fallbacks all call scalarMath<P>. The MLIR emitter (targets/cpu/mlir_codegen.cpp) is
// the only other rendering. T is the element type the math runs in: f64 on the reference
// device, f32 on the cpu device (where GELU and its gradient use the vectorizing fastExp form).
#pragma once

#include <cmath>
#include <type_traits>

#include "eval/kernels/kernels.h"
#include "ir/fused_expr.h"

namespace kiln::kernels {

template <FusedPrim P, class T>
inline T scalarMath(T a, T b = T(0)) {
  using F = FusedPrim;
  if constexpr (P == F::Neg) return -a;
  else if constexpr (P == F::Abs) return T(std::fabs(double(a)));
  else if constexpr (P == F::Exp) return T(std::exp(double(a)));
  else if constexpr (P == F::Log) return T(std::log(double(a)));
  else if constexpr (P == F::Sqrt) return T(std::sqrt(double(a)));
  else if constexpr (P == F::Rsqrt) return T(1.0 / std::sqrt(double(a)));
  else if constexpr (P == F::Tanh) return T(std::tanh(double(a)));
  else if constexpr (P == F::Sin) return T(std::sin(double(a)));
  else if constexpr (P == F::Cos) return T(std::cos(double(a)));
  else if constexpr (P == F::Sigmoid) return T(1.0 / (1.0 + std::exp(-double(a))));
  else if constexpr (P == F::Relu) return a > 0 ? a : T(0);
  else if constexpr (P == F::GeluTanh) return geluTanh<T>(a);
  else if constexpr (P == F::GeluErf) return geluErf<T>(a);
  else if constexpr (P == F::Add) return a + b;
  else if constexpr (P == F::Sub) return a - b;
  else if constexpr (P == F::Mul) return a * b;
  else if constexpr (P == F::Div) return a / b;
  else if constexpr (P == F::Max) return (a > b || std::isnan(double(a))) ? a : b;
  else if constexpr (P == F::Min) return (a < b || std::isnan(double(a))) ? a : b;
  else if constexpr (P == F::Pow) return T(std::pow(double(a), double(b)));
  else if constexpr (P == F::GeluGradTanh) {  // a: x, b: the incoming gradient
    const T c = T(0.7978845608028654), k = T(0.044715);
    T u = c * (a + k * a * a * a), t;
    if constexpr (std::is_same_v<T, float>) t = T(1) - T(2) / (T(1) + fastExp(T(2) * u));  // vectorizes
    else t = std::tanh(u);
    return b * (T(0.5) * (T(1) + t) + T(0.5) * a * (T(1) - t * t) * c * (T(1) + T(3) * k * a * a));
  } else if constexpr (P == F::GeluGradErf) {
    const T invSqrt2 = T(0.7071067811865476), invSqrt2Pi = T(0.3989422804014327);
    return b * (T(0.5) * (T(1) + std::erf(a * invSqrt2)) + a * std::exp(T(-0.5) * a * a) * invSqrt2Pi);
  } else {
    static_assert(P == F::Neg, "a fused primitive without scalar math");
  }
}

// The same, chosen at run time (fused programs).
template <class T>
T scalarMath(FusedPrim p, T a, T b) {
  switch (p) {
#define KILN_PRIM(P) \
  case FusedPrim::P: return scalarMath<FusedPrim::P, T>(a, b);
    KILN_PRIM(Neg) KILN_PRIM(Abs) KILN_PRIM(Exp) KILN_PRIM(Log) KILN_PRIM(Sqrt) KILN_PRIM(Rsqrt) KILN_PRIM(Tanh)
    KILN_PRIM(Sin) KILN_PRIM(Cos) KILN_PRIM(Sigmoid) KILN_PRIM(Relu) KILN_PRIM(GeluTanh) KILN_PRIM(GeluErf)
    KILN_PRIM(Add) KILN_PRIM(Sub) KILN_PRIM(Mul) KILN_PRIM(Div) KILN_PRIM(Max) KILN_PRIM(Min) KILN_PRIM(Pow)
    KILN_PRIM(GeluGradTanh) KILN_PRIM(GeluGradErf)
#undef KILN_PRIM
  }
  return T(0);
}

}  // namespace kiln::kernels
