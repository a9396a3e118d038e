// The GPT model family (decoder-only Transformer) in the builder API. Parameters follow the
// Hugging Face GPT-2 names and layouts (weights stored [in, out]).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/builder.h"

namespace kiln {

struct GptConfig {
  int64_t vocab = 64;
  int64_t context = 16;  // sequence length T trained on
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t dModel = 16;
  int64_t dFF = 64;
  int64_t batch = 2;
  std::string activation = "gelu";  // "gelu" (tanh form, as GPT-2) or "relu"
  bool preNorm = true;              // GPT-2 style pre-LN; false: post-LN
  bool learnedPositions = true;     // false: fixed sinusoidal positions
  double initStd = 0.02;
  double layerNormEps = 1e-5;
  DType dtype = DType::F32;
  int64_t seed = 0;  // initializer seeds derive from it and the parameter's index
  // Where the settings behind each part came from (spec locations), stamped on its ops:
  // "embedding", "layers", "attention", "mlp", "lm_head". Missing entries leave ops unlocated.
  std::map<std::string, Location> sources;
  Location source(const std::string& part) const {
    auto it = sources.find(part);
    return it == sources.end() ? Location{} : it->second;
  }
};

// Adds the parameters to `m` and a function `name`(%tokens: i32[batch, context + 1]) ->
// (loss: scalar) computing next-token cross-entropy with the LM head tied to wte.
Function& buildGptLoss(Module& m, const GptConfig& c, const std::string& name = "loss");

// The forward pass on input ids [batch, T] to logits [batch, T, vocab]; parameters must exist.
Value* gptLogits(Builder& b, const GptConfig& c, Value* ids);
// The same up to the final hidden states [batch, T, d_model] (after ln_f), before the LM head.
Value* gptHidden(Builder& b, const GptConfig& c, Value* ids);

void addGptParameters(Module& m, const GptConfig& c);

// `name`(%tokens: i32[batch, context + 1], %weights: [batch, context]) -> (loss): the REINFORCE
// loss -(1/batch) sum weights * log pi(next token); parameters must exist.
Function& buildGptReinforceLoss(Module& m, const GptConfig& c, const std::string& name = "loss");

// Adds `sample_step`(%token: i32[1], %pos: i32[]) -> (logits: [vocab]): one token of
// autoregressive generation at position `pos`, with keys and values of earlier positions kept
// in per-layer state (kv_cache.h.N.k / .v, [1, heads, context, d_head]), so generating n tokens
// costs O(n) steps of O(context) attention each, not a quadratic recomputation.
Function& buildGptSampleStep(Module& m, const GptConfig& c);

inline const char* kKvCachePrefix = "kv_cache.";

}  // namespace kiln
