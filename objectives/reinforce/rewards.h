// REINFORCE on a causal-LM policy, the host side: rewards of sampled continuations (built-in
// heuristics), discounted returns, the moving-average baseline, and the per-token weights
// (R_t - b) that train_step multiplies into the continuation's log-likelihood:
//   loss = -(1/B) sum_b sum_t (G_bt - b) log pi(a_bt | s_bt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct RewardSettings {
  std::vector<std::string> kinds;     // keywords | length | repetition (| classifier, scored elsewhere)
  std::vector<std::string> keywords;  // keywords: each occurrence in the text scores
  int64_t targetLength = 20;          // length: tokens aimed at
};

// The reward of one continuation (its text and tokens): the sum of the chosen heuristics, each
// in [0, 1]: keywords = min(1, occurrences / 3); length = 1 - |n - target| / target (>= 0);
// repetition = distinct bigrams / bigrams (1 for a single token, 0 for an empty continuation).
double reward(const RewardSettings& s, const std::string& text, const std::vector<int32_t>& tokens);

// Weights for the positions of a [rows, length] batch: a row's continuation spans positions
// [start, start + n) (the positions whose next token was sampled); a sequence-level reward R
// gives the token at distance d from the end the return gamma^d R; the weight is that minus
// the baseline, 0 outside the continuation.
std::vector<double> reinforceWeights(const std::vector<double>& rewards, const std::vector<int64_t>& start,
                                     const std::vector<int64_t>& count, int64_t length, double gamma, double baseline);

// b <- decay b + (1 - decay) mean(rewards); the first update takes the mean.
double updateBaseline(double baseline, bool first, const std::vector<double>& rewards, double decay);

}  // namespace kiln
