// Denoising batches for encoder-decoder pretraining, deterministic in (seed, step):
//   t5:   spans covering `noise_density` of a window (mean length `mean_span`) are replaced in
//         the input by sentinels <extra_0>, <extra_1>, ...; the target lists each sentinel and
//         the span it hid, then <eos> (T5 span corruption);
//   bart: each span is replaced by one [MASK] and the target is the whole window, then <eos>
//         (BART text infilling).
// The decoder reads [<eos>] + target[:-1] (teacher forcing); labels are the target, -100 after.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "eval/tensor.h"

namespace kiln {

// Ids after the tokenizer's vocabulary: [PAD], [MASK], then the sentinels.
inline constexpr int64_t kDenoisingSentinels = 16;
inline constexpr int64_t kDenoisingSpecialCount = 2 + kDenoisingSentinels;

struct DenoisingSettings {
  int64_t batch = 1, context = 32;  // source and target length
  std::string noise = "t5";
  double noiseDensity = 0.15, meanSpan = 3.0;
  int64_t tokenizerVocab = 0;
  int32_t eos = 0;  // <|endoftext|>
  int32_t pad() const { return int32_t(tokenizerVocab); }
  int32_t mask() const { return int32_t(tokenizerVocab + 1); }
  int32_t sentinel(int64_t k) const { return int32_t(tokenizerVocab + 2 + k); }
};

// input_ids, attention_mask, decoder_input_ids, labels.
Expected<std::vector<ref::Tensor>> denoisingBatch(const std::vector<int32_t>& stream, const DenoisingSettings& s,
                                                  uint64_t seed, uint64_t step);

}  // namespace kiln
