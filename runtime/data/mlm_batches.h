// Masked-LM batches (BERT pretraining), deterministic in (seed, step):
//   [CLS] A [SEP]            without next-sentence prediction (A: context - 2 tokens)
//   [CLS] A [SEP] B [SEP]    with it: B is the text that follows A in the stream (label 0,
//                            "is next") or, for half the rows, text from a random place (1)
// Of the tokens that are not special, each is chosen with probability mask_prob; a chosen
// token is replaced by [MASK] 80% of the time, by a random token 10%, and kept 10%, and its
// original id becomes the label (-100 elsewhere).
#pragma once

#include <cstdint>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/special_tokens.h"
#include "eval/tensor.h"

namespace kiln {

struct MlmSettings {
  int64_t batch = 1, context = 8;
  bool nsp = true;
  double maskProb = 0.15;
  int64_t tokenizerVocab = 0;  // random replacements come from [0, tokenizerVocab)
  EncoderSpecials specials{0, 1, 2, 3};
};

// input_ids, segment_ids, attention_mask (all 1: rows are full), mlm_labels[, nsp_labels].
Expected<std::vector<ref::Tensor>> mlmBatch(const std::vector<int32_t>& stream, const MlmSettings& s, uint64_t seed,
                                            uint64_t step);

}  // namespace kiln
