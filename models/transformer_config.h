// The sizes and choices of a Transformer of any family kiln builds: the GPT decoder, the BERT
// encoder and the BART-style encoder-decoder all read the same fields.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ir/diagnostics.h"
#include "ir/types.h"

namespace kiln {

struct TransformerConfig {
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

}  // namespace kiln
