#include "models/seq2seq.h"

#include "models/bert.h"
#include "models/layers.h"

namespace kiln {

namespace {

std::string encoderLayer(int64_t i) { return "model.encoder.layers." + std::to_string(i) + "."; }
std::string decoderLayer(int64_t i) { return "model.decoder.layers." + std::to_string(i) + "."; }

// Multi-head attention of queries from x over keys/values from `kv` ([B, S, C]).
Value* attention(Builder& b, const TransformerConfig& c, Value* x, Value* kv, Value* mask, bool causal, const std::string& prefix) {
  auto heads = [&](Value* v, const char* proj) { return splitHeads(b, linear(b, v, prefix + proj, WeightLayout::OutIn), c.heads); };
  Value* y = b.attention(heads(x, "q_proj"), heads(kv, "k_proj"), heads(kv, "v_proj"), mask, causal);
  return linear(b, mergeHeads(b, y), prefix + "out_proj", WeightLayout::OutIn);
}

Value* ffn(Builder& b, const TransformerConfig& c, Value* x, const std::string& prefix) {
  return feedForward(b, x, prefix + "fc1", prefix + "fc2", c.activation, "erf");
}

Value* embed(Builder& b, const TransformerConfig& c, Value* ids, const std::string& side) {
  const int64_t T = ids->type.shape[1];
  Value* x = b.gather(b.readState("model.shared.weight"), ids);
  x = b.add(x, b.slice(b.readState("model." + side + ".embed_positions.weight"), {0, 0}, {T, c.dModel}));
  return layerNorm(b, x, "model." + side + ".layernorm_embedding", c.layerNormEps, NormScope::None);
}

}  // namespace

void addSeq2SeqParameters(Module& m, const TransformerConfig& c) {
  int64_t seed = c.seed * 1000 + 500;
  const int64_t C = c.dModel;
  auto add = [&](const std::string& name, Shape shape, Initializer init) { m.addState(name, {c.dtype, std::move(shape)}, init, true); };
  auto normal = [&]() { return Initializer{InitKind::Normal, 0.0, c.initStd, ++seed}; };
  auto addLinear = [&](const std::string& prefix, int64_t out, int64_t in) {
    add(prefix + ".weight", {out, in}, normal());
    add(prefix + ".bias", {out}, Initializer{InitKind::Zeros});
  };
  auto addNorm = [&](const std::string& prefix) {
    add(prefix + ".weight", {C}, Initializer{InitKind::Ones});
    add(prefix + ".bias", {C}, Initializer{InitKind::Zeros});
  };
  auto addAttention = [&](const std::string& prefix) {
    for (const char* p : {"q_proj", "k_proj", "v_proj", "out_proj"}) addLinear(prefix + p, C, C);
  };
  add("model.shared.weight", {c.vocab, C}, normal());
  for (const char* side : {"encoder", "decoder"}) {
    add(std::string("model.") + side + ".embed_positions.weight", {c.context, C}, normal());
    addNorm(std::string("model.") + side + ".layernorm_embedding");
  }
  for (int64_t i = 0; i < c.layers; ++i) {
    addAttention(encoderLayer(i) + "self_attn.");
    addNorm(encoderLayer(i) + "self_attn_layer_norm");
    addLinear(encoderLayer(i) + "fc1", c.dFF, C);
    addLinear(encoderLayer(i) + "fc2", C, c.dFF);
    addNorm(encoderLayer(i) + "final_layer_norm");
  }
  for (int64_t i = 0; i < c.layers; ++i) {
    addAttention(decoderLayer(i) + "self_attn.");
    addNorm(decoderLayer(i) + "self_attn_layer_norm");
    addAttention(decoderLayer(i) + "encoder_attn.");
    addNorm(decoderLayer(i) + "encoder_attn_layer_norm");
    addLinear(decoderLayer(i) + "fc1", c.dFF, C);
    addLinear(decoderLayer(i) + "fc2", C, c.dFF);
    addNorm(decoderLayer(i) + "final_layer_norm");
  }
}

Function& buildSeq2Seq(Module& m, const TransformerConfig& c, const std::string& name, const std::string& outputPrefix) {
  Function& f = m.addFunction(name);
  Builder b(m, f);
  const int64_t B = c.batch, S = c.context;
  Value* ids = b.param("input_ids", {DType::I32, {B, S}});
  Value* mask = b.param("attention_mask", {c.dtype, {B, S}});
  Value* decIds = b.param("decoder_input_ids", {DType::I32, {B, S}});
  Value* labels = b.param("labels", {DType::I32, {B, S}});
  Value* padding = paddingBias(b, mask);  // for both kinds of attention
  Value* enc;
  {
    auto s = b.scope("model.encoder");
    b.setLocation(c.source("layers"));
    enc = embed(b, c, ids, "encoder");
    for (int64_t i = 0; i < c.layers; ++i) {
      auto l = b.scope("layers." + std::to_string(i));
      enc = layerNorm(b, b.add(enc, attention(b, c, enc, enc, padding, false, encoderLayer(i) + "self_attn.")),
                 encoderLayer(i) + "self_attn_layer_norm", c.layerNormEps, NormScope::None);
      enc = layerNorm(b, b.add(enc, ffn(b, c, enc, encoderLayer(i))), encoderLayer(i) + "final_layer_norm", c.layerNormEps, NormScope::None);
    }
  }
  Value* dec;
  {
    auto s = b.scope("model.decoder");
    b.setLocation(c.source("layers"));
    dec = embed(b, c, decIds, "decoder");
    for (int64_t i = 0; i < c.layers; ++i) {
      auto l = b.scope("layers." + std::to_string(i));
      dec = layerNorm(b, b.add(dec, attention(b, c, dec, dec, nullptr, true, decoderLayer(i) + "self_attn.")),
                 decoderLayer(i) + "self_attn_layer_norm", c.layerNormEps, NormScope::None);
      dec = layerNorm(b, b.add(dec, attention(b, c, dec, enc, padding, false, decoderLayer(i) + "encoder_attn.")),
                 decoderLayer(i) + "encoder_attn_layer_norm", c.layerNormEps, NormScope::None);
      dec = layerNorm(b, b.add(dec, ffn(b, c, dec, decoderLayer(i))), decoderLayer(i) + "final_layer_norm", c.layerNormEps, NormScope::None);
    }
  }
  b.setLocation(c.source("objective"));
  Value* logits;
  {
    auto s = b.scope("lm_head");
    logits = b.matmul(dec, b.readState("model.shared.weight"), false, true);  // tied: [B, S, V]
  }
  {
    auto s = b.scope("loss");
    b.output(outputPrefix + "loss", b.crossEntropy(logits, labels, -100));
  }
  b.output(outputPrefix + "token_accuracy", accuracy(b, logits, labels, -100));
  return f;
}

}  // namespace kiln
