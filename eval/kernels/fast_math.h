// exp in the element type, written so loops over it vectorize: std::exp is a libm call per
// element unless the whole build uses -ffast-math. f32 uses Cephes' expf polynomial after a
// range reduction by ln 2 (about 1 ulp); f64 (the reference device) keeps std::exp.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace kiln::kernels {

inline float fastExp(float x) {
  const float lo = -87.33654f, hi = 88.72283f;  // e^lo is the smallest normal f32
  float c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  float n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(c / ln 2)
  float r = (c - n * 0.693359375f) + n * 2.12194440e-4f;              // c - n ln 2, in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // 2^n in two factors: n reaches 128 just below the overflow threshold.
  int32_t ni = int32_t(n), half = ni / 2;
  float s1 = std::bit_cast<float>((half + 127) << 23), s2 = std::bit_cast<float>((ni - half + 127) << 23);
  float y = p * s1 * s2;
  y = x < lo ? 0.0f : y;  // underflow (and -inf) to 0, as expf does below the normal range
  y = x > hi ? HUGE_VALF : y;
  return x != x ? x : y;  // nan stays nan
}

template <class T>
T expOf(T x) {
  if constexpr (std::is_same_v<T, float>) return fastExp(x);
  else return std::exp(x);
}

}  // namespace kiln::kernels
