// Sequence classification heads on the two bodies, with Hugging Face names: BERT's
// `classifier` on the pooled [CLS] state (BertForSequenceClassification) and GPT's `score` on
// the last real token's final hidden state (GPT2ForSequenceClassification, no bias).
#pragma once

#include <string>

#include "models/gpt.h"

namespace kiln {

// Adds the body's parameters (when `withBody`) and the head's for `classes` labels.
void addClassifierParameters(Module& m, const TransformerConfig& c, const std::string& modelKind, int64_t classes, bool withBody);

// `name`(input_ids: i32[B, T], attention_mask: [B, T] (1 real, 0 padding), labels: i32[B]
// (-100 = no example)) -> (<prefix>loss, <prefix>accuracy[, <prefix>logits [B, classes] when a
// prefix is given: evaluation computes per-class metrics from them]).
// Encoders read [CLS] (position 0); decoders read the last position whose mask is 1.
Function& buildClassifier(Module& m, const TransformerConfig& c, const std::string& modelKind,
                          const std::string& name, const std::string& outputPrefix);

// Names of the head's parameters: the classifier, and BERT's pooler (pretrained by NSP, or
// fresh when the body was pretrained without it). Everything else is the body, which `freeze`
// fixes.
bool isClassifierHead(const std::string& stateName);
// Their name prefixes (recorded in the executable: a trainer starts them fresh in init_from).
std::vector<std::string> classifierHeadPrefixes();

}  // namespace kiln
