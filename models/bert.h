// The BERT model family (encoder-only Transformer, post-LN, bidirectional attention with a
// padding mask) in the builder API, with Hugging Face BERT parameter names and layouts
// (linear weights stored [out, in]). Shares TransformerConfig's sizes and sources.
#pragma once

#include <string>

#include "models/gpt.h"

namespace kiln {


// Which heads exist besides the encoder: the MLM prediction head (cls.predictions), the pooler
// (bert.pooler, on [CLS]) and the next-sentence head (cls.seq_relationship).
struct BertHeads {
  bool mlm = true, pooler = true, nsp = true;
};
void addBertParameters(Module& m, const TransformerConfig& c, BertHeads heads);

// ids, segments [B, T] i32 and mask [B, T] f32 (1 real token, 0 padding) -> hidden [B, T, C].
Value* bertEncoder(Builder& b, const TransformerConfig& c, Value* ids, Value* segments, Value* mask);

// A function `name`(input_ids, segment_ids, attention_mask: [B, T], mlm_labels: i32[B, T]
// (-100 where not masked)[, nsp_labels: i32[B]]) -> (<prefix>loss, <prefix>mlm_accuracy
// [, <prefix>nsp_accuracy][, <prefix>hidden: the encoder's [B, T, C], when a prefix is given]):
// masked-LM cross-entropy (+ next-sentence cross-entropy), the decoder tied to the word
// embeddings. Parameters must exist.
Function& buildBertPretraining(Module& m, const TransformerConfig& c, bool nsp, const std::string& name,
                               const std::string& outputPrefix);

// The fraction of rows whose label has the largest logit, over rows whose label is not
// `ignoreIndex` (0 when there are none). logits [N..., V], labels i32 [N...].
Value* accuracy(Builder& b, Value* logits, Value* labels, int64_t ignoreIndex);

}  // namespace kiln
