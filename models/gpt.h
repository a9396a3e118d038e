// The GPT model family (decoder-only Transformer) in the builder API. Parameters follow the
// Hugging Face GPT-2 names and layouts (weights stored [in, out]).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/builder.h"
#include "models/transformer_config.h"

namespace kiln {


// Adds the parameters to `m` and a function `name`(%tokens: i32[batch, context + 1]) ->
// (loss: scalar) computing next-token cross-entropy with the LM head tied to wte.
Function& buildGptLoss(Module& m, const TransformerConfig& c, const std::string& name = "loss");

// eval_step(%tokens) -> (val_loss): the same loss without gradients or updates; its loss op
// carries `where` (the objective that asked for it). Parameters must exist.
Function& buildGptEvalStep(Module& m, const TransformerConfig& c, Location where);

// The forward pass on input ids [batch, T] to logits [batch, T, vocab]; parameters must exist.
Value* gptLogits(Builder& b, const TransformerConfig& c, Value* ids);
// The same up to the final hidden states [batch, T, d_model] (after ln_f), before the LM head.
Value* gptHidden(Builder& b, const TransformerConfig& c, Value* ids);

void addGptParameters(Module& m, const TransformerConfig& c);

// `name`(%tokens: i32[batch, context + 1], %weights: [batch, context]) -> (loss): the REINFORCE
// loss -(1/batch) sum weights * log pi(next token), pi = softmax(logits / temperature), the
// distribution the tokens were sampled from; parameters must exist.
Function& buildGptReinforceLoss(Module& m, const TransformerConfig& c, const std::string& name = "loss", double temperature = 1.0);

// Adds `sample_step`(%token: i32[1], %pos: i32[]) -> (logits: [vocab]): one token of
// autoregressive generation at position `pos`, with keys and values of earlier positions kept
// in per-layer state (kv_cache.h.N.k / .v, [1, heads, context, d_head]), so generating n tokens
// costs O(n) steps of O(context) attention each, not a quadratic recomputation.
Function& buildGptSampleStep(Module& m, const TransformerConfig& c);

inline const char* kKvCachePrefix = "kv_cache.";

}  // namespace kiln
