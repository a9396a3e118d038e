// The vectorizable f32 exp the cpu kernels use (softmax, cross-entropy, attention, GELU).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "eval/kernels/fast_math.h"

namespace kiln {

TEST_CASE("fastExp: within 2 ulp of exp over the f32 range, exact at the edges") {
  using kernels::fastExp;
  double worst = 0;
  for (float x = -87.0f; x <= 88.5f; x += 0.001953125f) {
    double want = std::exp(double(x));
    double got = fastExp(x);
    double ulp = std::nextafter(float(want), std::numeric_limits<float>::infinity()) - float(want);
    worst = std::max(worst, std::fabs(got - want) / ulp);
  }
  MESSAGE("worst error " << worst << " ulp");
  CHECK(worst <= 2.0);
  CHECK(fastExp(0.0f) == 1.0f);
  CHECK(fastExp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(fastExp(-100.0f) == 0.0f);
  CHECK(std::isinf(fastExp(100.0f)));
  CHECK(std::isinf(fastExp(std::numeric_limits<float>::infinity())));
  CHECK(std::isnan(fastExp(std::nanf(""))));
}

}  // namespace kiln
