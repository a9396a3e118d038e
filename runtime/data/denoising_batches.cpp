#include "runtime/data/denoising_batches.h"

#include <algorithm>
#include <cmath>

#include "eval/random.h"

namespace kiln {

namespace {

// Splits n items into k non-empty segments at random cut points (T5's random_segmentation).
std::vector<int64_t> segments(int64_t n, int64_t k, uint64_t seed, uint64_t base) {
  std::vector<int64_t> cuts(static_cast<size_t>(std::max<int64_t>(n - 1, 0)));
  for (int64_t i = 0; i < n - 1; ++i) cuts[size_t(i)] = i + 1;
  for (int64_t i = 0; i < k - 1; ++i) {  // a partial Fisher-Yates draw of k - 1 distinct cuts
    int64_t j = i + int64_t(counterUniform(seed, base + uint64_t(i)) * double(n - 1 - i));
    std::swap(cuts[size_t(i)], cuts[size_t(j)]);
  }
  std::vector<int64_t> chosen(cuts.begin(), cuts.begin() + (k - 1));
  std::sort(chosen.begin(), chosen.end());
  std::vector<int64_t> lengths;
  int64_t prev = 0;
  for (int64_t c : chosen) lengths.push_back(c - prev), prev = c;
  lengths.push_back(n - prev);
  return lengths;
}

}  // namespace

Expected<std::vector<ref::Tensor>> denoisingBatch(const std::vector<int32_t>& stream, const DenoisingSettings& s,
                                                  uint64_t seed, uint64_t step) {
  const int64_t B = s.batch, S = s.context;
  const bool t5 = s.noise == "t5";
  // The longest window whose input and target both fit in S (with <eos>).
  int64_t window = S - 1, noise = 0, spans = 1;
  for (; window > 1; --window) {
    noise = std::max<int64_t>(1, std::llround(double(window) * s.noiseDensity));
    spans = std::clamp<int64_t>(std::llround(double(noise) / s.meanSpan), 1, std::min<int64_t>(kDenoisingSentinels, noise));
    spans = std::min(spans, window - noise);
    int64_t input = window - noise + spans + 1, target = t5 ? noise + spans + 1 : window + 1;
    if (spans >= 1 && input <= S && target <= S) break;
  }
  if (window <= 1 || int64_t(stream.size()) < window)
    return makeError({}, "the token stream or the context (" + std::to_string(S) + ") is too short for a denoising window");
  ref::Tensor ids({DType::I32, {B, S}}), mask({DType::F32, {B, S}}), dec({DType::I32, {B, S}}), labels({DType::I32, {B, S}});
  const uint64_t span = uint64_t(int64_t(stream.size()) - window + 1);
  for (int64_t r = 0; r < B; ++r) {
    const uint64_t row = step * uint64_t(B) + uint64_t(r), base = row * 4096;
    const size_t at = size_t(counterUniform(seed, base) * double(span));
    std::vector<int64_t> noiseLen = segments(noise, spans, seed, base + 1);
    std::vector<int64_t> keepLen = segments(window - noise, spans, seed, base + 2048);
    std::vector<int32_t> input, target;
    size_t pos = at;
    for (int64_t k = 0; k < spans; ++k) {
      for (int64_t i = 0; i < keepLen[size_t(k)]; ++i) input.push_back(stream[pos++]);
      input.push_back(t5 ? s.sentinel(k) : s.mask());
      if (t5) target.push_back(s.sentinel(k));
      for (int64_t i = 0; i < noiseLen[size_t(k)]; ++i) {
        if (t5) target.push_back(stream[pos]);
        ++pos;
      }
    }
    if (!t5) target.assign(stream.begin() + std::ptrdiff_t(at), stream.begin() + std::ptrdiff_t(at + size_t(window)));
    input.push_back(s.eos);
    target.push_back(s.eos);
    for (int64_t t = 0; t < S; ++t) {
      bool in = t < int64_t(input.size()), out = t < int64_t(target.size());
      ids[r * S + t] = in ? input[size_t(t)] : s.pad();
      mask[r * S + t] = in ? 1 : 0;
      labels[r * S + t] = out ? target[size_t(t)] : -100;
      dec[r * S + t] = t == 0 ? s.eos : (t - 1 < int64_t(target.size()) ? target[size_t(t - 1)] : s.pad());
    }
  }
  return std::vector<ref::Tensor>{ids, mask, dec, labels};
}

}  // namespace kiln
