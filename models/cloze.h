// Cloze (prompt) classification with a language model's own head: the text is put into a
// template with one slot, and each label's score is the log of the probability the model gives
// its verbalizer words at the slot (an MLM's [MASK] position, or a causal LM's next token after
// the text before the slot). Trained, it is prompt-based fine-tuning: cross-entropy over the
// labels' scores only.
#pragma once

#include <string>
#include <vector>

#include "models/gpt.h"

namespace kiln {

// `name`(input_ids: i32[B, T], attention_mask: [B, T], slot: i32[B] (the position whose
// prediction is read), labels: i32[B] (-100: no example)) -> (<prefix>loss, <prefix>accuracy
// [, <prefix>logits: the label scores [B, classes], when a prefix is given]).
// `words[k]` are the token ids of label k's verbalizer (the first token of each word).
// Parameters (the model's, with its LM head) must exist.
Function& buildCloze(Module& m, const TransformerConfig& c, const std::string& modelKind,
                     const std::vector<std::vector<int32_t>>& words, const std::string& name, const std::string& outputPrefix);

}  // namespace kiln
