// An encoder-decoder Transformer (BART layout, Hugging Face BART names): a post-LN encoder with
// a padding mask, and a post-LN decoder with causal self-attention and cross-attention over the
// encoder's states; token embeddings shared by both and by the tied LM head. Sizes come from
// TransformerConfig (layers = layers of each stack, context = source and target length).
#pragma once

#include <string>

#include "models/gpt.h"

namespace kiln {

void addSeq2SeqParameters(Module& m, const TransformerConfig& c);

// `name`(input_ids: i32[B, S], attention_mask: [B, S], decoder_input_ids: i32[B, S],
// labels: i32[B, S] (-100 where there is no target)) -> (<prefix>loss, <prefix>token_accuracy):
// teacher-forced cross-entropy of the decoder's predictions.
Function& buildSeq2Seq(Module& m, const TransformerConfig& c, const std::string& name, const std::string& outputPrefix);

}  // namespace kiln
