#include "objectives/reinforce/rewards.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace kiln {

double reward(const RewardSettings& s, const std::string& text, const std::vector<int32_t>& tokens) {
  double r = 0;
  for (const auto& kind : s.kinds) {
    if (kind == "keywords") {
      int64_t hits = 0;
      for (const auto& k : s.keywords)
        for (size_t at = text.find(k); !k.empty() && at != std::string::npos; at = text.find(k, at + k.size())) ++hits;
      r += std::min(1.0, double(hits) / 3.0);
    } else if (kind == "length") {
      double t = double(std::max<int64_t>(s.targetLength, 1));
      r += std::max(0.0, 1.0 - std::fabs(double(tokens.size()) - t) / t);
    } else if (kind == "repetition") {
      // Nothing said repeats nothing, but earns nothing either (else stopping at once would
      // be the best policy); one token cannot repeat.
      if (tokens.size() < 2) {
        r += tokens.empty() ? 0.0 : 1.0;
        continue;
      }
      std::set<std::pair<int32_t, int32_t>> seen;
      for (size_t i = 0; i + 1 < tokens.size(); ++i) seen.emplace(tokens[i], tokens[i + 1]);
      r += double(seen.size()) / double(tokens.size() - 1);
    }
  }
  return r;
}

std::vector<double> reinforceWeights(const std::vector<double>& rewards, const std::vector<int64_t>& start,
                                     const std::vector<int64_t>& count, int64_t length, double gamma, double baseline) {
  std::vector<double> w(rewards.size() * size_t(length), 0.0);
  for (size_t b = 0; b < rewards.size(); ++b)
    for (int64_t i = 0; i < count[b]; ++i) {
      int64_t pos = start[b] + i;
      if (pos < 0 || pos >= length) continue;
      double ret = std::pow(gamma, double(count[b] - 1 - i)) * rewards[b];
      w[b * size_t(length) + size_t(pos)] = ret - baseline;
    }
  return w;
}

double updateBaseline(double baseline, bool first, const std::vector<double>& rewards, double decay) {
  double mean = 0;
  for (double r : rewards) mean += r / double(rewards.size());
  return first ? mean : decay * baseline + (1 - decay) * mean;
}

}  // namespace kiln
