// The layers every model family is built from, written once. Parameters are read from state by
// name prefix (PREFIX.weight, PREFIX.bias), so each family keeps its Hugging Face names.
#pragma once

#include <string>

#include "ir/builder.h"

namespace kiln {

// How a linear layer's weight is stored: GPT-2's Conv1D keeps [in, out]; PyTorch's nn.Linear
// (BERT, BART) keeps [out, in].
enum class WeightLayout { InOut, OutIn };

// x [..., in] times the weight, plus bias [out].
Value* linear(Builder& b, Value* x, const std::string& prefix, WeightLayout layout);
// How a layer norm's ops are named (the profile and IR dumps show it): not scoped, scoped by
// the whole prefix, or by its last part inside the enclosing layer's scope ("h.3.attn.ln_1").
enum class NormScope { None, Prefix, LastPart };
// Layer norm over the last dim with PREFIX.weight and PREFIX.bias.
Value* layerNorm(Builder& b, Value* x, const std::string& prefix, double eps, NormScope scope);

// The feed-forward activation: "relu", or "gelu" in `geluForm` ("tanh" as GPT-2, "erf" as
// BERT and BART).
Value* activation(Builder& b, const std::string& kind, const char* geluForm, Value* x);

// The position-wise feed-forward block: down(activation(up(x))), PyTorch nn.Linear layout (BERT's
// intermediate/output, BART's fc1/fc2).
Value* feedForward(Builder& b, Value* x, const std::string& up, const std::string& down, const std::string& kind,
                   const char* geluForm);

// Attention heads: [B, T, H * D] -> [B, H, T, D], and back.
Value* splitHeads(Builder& b, Value* x, int64_t heads);
Value* mergeHeads(Builder& b, Value* y);

// An attention mask [B, S] (1 real, 0 padding) as the scores' additive bias [B, 1, 1, S]:
// -10000 for padding keys, 0 for real ones (as BERT and BART).
Value* paddingBias(Builder& b, Value* mask);

}  // namespace kiln
