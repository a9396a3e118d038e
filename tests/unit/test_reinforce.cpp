// REINFORCE's host side: the reward heuristics, discounted returns minus the baseline as
// per-token weights, and the moving-average baseline.
#include <doctest/doctest.h>

#include "objectives/reinforce/rewards.h"

namespace kiln {

TEST_CASE("reinforce: rewards, weights and baseline") {
  RewardSettings s;
  s.kinds = {"keywords"};
  s.keywords = {"cat", "dog"};
  CHECK(reward(s, "a cat and a dog", {1, 2}) == doctest::Approx(2.0 / 3.0));
  CHECK(reward(s, "cat cat dog dog", {1}) == 1.0);  // capped
  s.kinds = {"length"};
  s.targetLength = 4;
  CHECK(reward(s, "", {1, 2, 3, 4}) == 1.0);
  CHECK(reward(s, "", {1, 2}) == 0.5);
  CHECK(reward(s, "", std::vector<int32_t>(20, 1)) == 0.0);
  s.kinds = {"repetition"};
  CHECK(reward(s, "", {1, 2, 3, 4}) == 1.0);
  CHECK(reward(s, "", {1, 2, 1, 2, 1}) == doctest::Approx(2.0 / 4.0));
  CHECK(reward(s, "", {7}) == 1.0);
  CHECK(reward(s, "", {}) == 0.0);  // stopping at once earns nothing
  s.kinds = {"length", "repetition"};
  CHECK(reward(s, "", {1, 2, 3, 4}) == 2.0);

  // Two rows of length 5: row 0 continues over positions 2..4 with reward 1, row 1 over 1..2
  // with reward 0; gamma 0.5, baseline 0.25.
  auto w = reinforceWeights({1.0, 0.0}, {2, 1}, {3, 2}, 5, 0.5, 0.25);
  std::vector<double> want = {0, 0, 0.25 - 0.25, 0.5 - 0.25, 1 - 0.25, /**/ 0, -0.25, -0.25, 0, 0};
  REQUIRE(w.size() == want.size());
  for (size_t i = 0; i < w.size(); ++i) CHECK(w[i] == doctest::Approx(want[i]));

  CHECK(updateBaseline(0, true, {1, 3}, 0.9) == 2.0);
  CHECK(updateBaseline(2, false, {4, 4}, 0.9) == doctest::Approx(2.2));
}

}  // namespace kiln
