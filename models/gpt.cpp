#include "models/gpt.h"

#include <cmath>
#include <functional>

#include "models/layers.h"

namespace kiln {

namespace {

std::string layerName(int64_t i, const std::string& rest) { return "h." + std::to_string(i) + "." + rest; }

}  // namespace

void addGptParameters(Module& m, const TransformerConfig& c) {
  int64_t seed = c.seed * 1000;
  auto normal = [&](double std) { return Initializer{InitKind::Normal, 0.0, std, ++seed}; };
  auto add = [&](const std::string& name, Shape shape, Initializer init) {
    m.addState(name, {c.dtype, std::move(shape)}, init, true);
  };
  const int64_t C = c.dModel;
  // GPT-2 scales the residual projections by 1/sqrt(2 * layers).
  double projStd = c.initStd / std::sqrt(2.0 * double(c.layers));
  add("wte.weight", {c.vocab, C}, normal(c.initStd));
  if (c.learnedPositions) add("wpe.weight", {c.context, C}, normal(c.initStd / 2));
  for (int64_t i = 0; i < c.layers; ++i) {
    add(layerName(i, "ln_1.weight"), {C}, Initializer{InitKind::Ones});
    add(layerName(i, "ln_1.bias"), {C}, Initializer{InitKind::Zeros});
    add(layerName(i, "attn.c_attn.weight"), {C, 3 * C}, normal(c.initStd));
    add(layerName(i, "attn.c_attn.bias"), {3 * C}, Initializer{InitKind::Zeros});
    add(layerName(i, "attn.c_proj.weight"), {C, C}, normal(projStd));
    add(layerName(i, "attn.c_proj.bias"), {C}, Initializer{InitKind::Zeros});
    add(layerName(i, "ln_2.weight"), {C}, Initializer{InitKind::Ones});
    add(layerName(i, "ln_2.bias"), {C}, Initializer{InitKind::Zeros});
    add(layerName(i, "mlp.c_fc.weight"), {C, c.dFF}, normal(c.initStd));
    add(layerName(i, "mlp.c_fc.bias"), {c.dFF}, Initializer{InitKind::Zeros});
    add(layerName(i, "mlp.c_proj.weight"), {c.dFF, C}, normal(projStd));
    add(layerName(i, "mlp.c_proj.bias"), {C}, Initializer{InitKind::Zeros});
  }
  if (c.preNorm) {  // post-LN ends on a layer's own norm
    add("ln_f.weight", {C}, Initializer{InitKind::Ones});
    add("ln_f.bias", {C}, Initializer{InitKind::Zeros});
  }
}

namespace {

// The attention core: q [B,H,T,D], k, v -> [B,H,T,D]. Training attends causally within the
// window; sampling attends over the KV cache.
using AttentionCore = std::function<Value*(Builder&, Value* q, Value* k, Value* v, int64_t layer)>;

// Multi-head self-attention: x [B, T, C] -> [B, T, C].
Value* selfAttention(Builder& b, const TransformerConfig& c, Value* x, const std::string& prefix, int64_t layer,
                     const AttentionCore& core) {
  const int64_t B = x->type.shape[0], T = x->type.shape[1], C = c.dModel, H = c.heads, D = C / H;
  Value* qkv;
  {
    auto s = b.scope("c_attn");
    qkv = linear(b, x, prefix + ".c_attn", WeightLayout::InOut);          // [B, T, 3C]
    qkv = b.transpose(b.reshape(qkv, {B, T, 3, H, D}), {2, 0, 3, 1, 4});  // [3, B, H, T, D]
  }
  auto head = [&](int64_t i) {
    return b.reshape(b.slice(qkv, {i, 0, 0, 0, 0}, {i + 1, B, H, T, D}), {B, H, T, D});
  };
  Value* y;
  {
    auto s = b.scope("core");
    b.setLocation(c.source("attention"));
    y = core(b, head(0), head(1), head(2), layer);  // [B, H, T, D]
    b.setLocation(c.source("layers"));
    y = mergeHeads(b, y);
  }
  auto s = b.scope("c_proj");
  return linear(b, y, prefix + ".c_proj", WeightLayout::InOut);
}

Value* mlp(Builder& b, const TransformerConfig& c, Value* x, const std::string& prefix) {
  b.setLocation(c.source("mlp"));
  Value* h;
  {
    auto s = b.scope("c_fc");
    h = linear(b, x, prefix + ".c_fc", WeightLayout::InOut);
    h = activation(b, c.activation, "tanh", h);
  }
  auto s = b.scope("c_proj");
  return linear(b, h, prefix + ".c_proj", WeightLayout::InOut);
}

// Fixed sinusoidal positions [T, C] (Vaswani et al.), computed at build time.
Value* sinusoidalPositions(Builder& b, const TransformerConfig& c, int64_t T) {
  std::vector<double> v(size_t(T * c.dModel));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < c.dModel; ++i) {
      double freq = std::pow(10000.0, -double(2 * (i / 2)) / double(c.dModel));
      v[size_t(t * c.dModel + i)] = i % 2 == 0 ? std::sin(double(t) * freq) : std::cos(double(t) * freq);
    }
  return b.constant(v, {c.dtype, {T, c.dModel}});
}

// The Transformer body from embedded inputs x [B, T, C] to the final hidden states [B, T, C].
Value* gptBody(Builder& b, const TransformerConfig& c, Value* x, const AttentionCore& core) {
  for (int64_t i = 0; i < c.layers; ++i) {
    std::string h = "h." + std::to_string(i);
    auto layer = b.scope(h);
    b.setLocation(c.source("layers"));
    if (c.preNorm) {
      Value* a;
      {
        auto s = b.scope("attn");
        a = selfAttention(b, c, layerNorm(b, x, h + ".ln_1", c.layerNormEps, NormScope::LastPart), h + ".attn", i, core);
      }
      x = b.add(x, a);
      auto s = b.scope("mlp");
      x = b.add(x, mlp(b, c, layerNorm(b, x, h + ".ln_2", c.layerNormEps, NormScope::LastPart), h + ".mlp"));
    } else {
      Value* a;
      {
        auto s = b.scope("attn");
        a = selfAttention(b, c, x, h + ".attn", i, core);
      }
      x = layerNorm(b, b.add(x, a), h + ".ln_1", c.layerNormEps, NormScope::LastPart);
      Value* f;
      {
        auto s = b.scope("mlp");
        f = mlp(b, c, x, h + ".mlp");
      }
      x = layerNorm(b, b.add(x, f), h + ".ln_2", c.layerNormEps, NormScope::LastPart);
    }
  }
  b.setLocation(c.source("lm_head"));
  if (c.preNorm) x = layerNorm(b, x, "ln_f", c.layerNormEps, NormScope::LastPart);
  return x;
}

Value* lmHead(Builder& b, const TransformerConfig& c, Value* x) {
  b.setLocation(c.source("lm_head"));
  auto s = b.scope("lm_head");
  return b.matmul(x, b.readState("wte.weight"), false, true);  // tied: [B, T, vocab]
}

}  // namespace

Value* gptLogits(Builder& b, const TransformerConfig& c, Value* ids) { return lmHead(b, c, gptHidden(b, c, ids)); }

Value* gptHidden(Builder& b, const TransformerConfig& c, Value* ids) {
  const int64_t T = ids->type.shape[1];
  Value* x;
  b.setLocation(c.source("embedding"));
  {
    auto s = b.scope("wte");
    x = b.gather(b.readState("wte.weight"), ids);  // [B, T, C]
  }
  {
    auto s = b.scope("wpe");
    Value* pos = c.learnedPositions ? b.slice(b.readState("wpe.weight"), {0, 0}, {T, c.dModel})
                                    : sinusoidalPositions(b, c, T);
    x = b.add(x, pos);
  }
  return gptBody(b, c, x, [](Builder& b, Value* q, Value* k, Value* v, int64_t) {
    return b.attention(q, k, v, nullptr, /*causal=*/true);
  });
}

Function& buildGptReinforceLoss(Module& m, const TransformerConfig& c, const std::string& name, double temperature) {
  Function& f = m.addFunction(name);
  Builder b(m, f);
  Value* tokens = b.param("tokens", {DType::I32, {c.batch, c.context + 1}});
  Value* weights = b.param("weights", {c.dtype, {c.batch, c.context}});
  Value* logits = gptLogits(b, c, b.slice(tokens, {0, 0}, {c.batch, c.context}));
  b.setLocation(c.source("objective"));
  auto s = b.scope("loss");
  // -log pi of each next token, weighted by its return minus the baseline, summed, / B; pi is
  // the distribution the actions were sampled from, softmax(logits / temperature).
  if (temperature != 1.0) logits = b.mul(logits, b.scalar(1.0 / temperature, c.dtype));
  Value* nll = b.crossEntropy(logits, b.slice(tokens, {0, 1}, {c.batch, c.context + 1}), -100, "none");
  b.output("loss", b.div(b.reduceSum(b.mul(nll, weights), {0, 1}), b.scalar(double(c.batch), c.dtype)));
  return f;
}

Function& buildGptSampleStep(Module& m, const TransformerConfig& c) {
  const int64_t H = c.heads, D = c.dModel / c.heads, S = c.context;
  const TensorType cacheType{c.dtype, {1, H, S, D}};
  for (int64_t i = 0; i < c.layers; ++i)
    for (const char* kv : {"k", "v"})
      m.addState(std::string(kKvCachePrefix) + "h." + std::to_string(i) + "." + kv, cacheType, Initializer{InitKind::Zeros},
                 false);
  Function& f = m.addFunction("sample_step");
  Builder b(m, f);
  Value* token = b.param("token", {DType::I32, {1}});
  Value* pos = b.param("pos", {DType::I32, {}});
  b.setLocation(c.source("embedding"));
  Value* x;
  {
    auto s = b.scope("wte");
    x = b.reshape(b.gather(b.readState("wte.weight"), token), {1, 1, c.dModel});
  }
  {
    auto s = b.scope("wpe");
    Value* table = c.learnedPositions ? b.readState("wpe.weight") : sinusoidalPositions(b, c, S);
    x = b.add(x, b.reshape(b.gather(table, b.reshape(pos, {1})), {1, 1, c.dModel}));
  }
  // Cache slot `pos` takes this token's key and value; later slots are masked out.
  Value* slot = b.iota({DType::I32, {1, 1, S, 1}}, 2);
  Value* here = b.compare(OpKind::Eq, slot, pos);
  Value* visible = b.compare(OpKind::Le, b.iota({DType::I32, {1, 1, 1, S}}, 3), pos);
  Value* mask = b.select(visible, b.scalar(0.0, c.dtype), b.scalar(-INFINITY, c.dtype));
  Value* hidden = gptBody(b, c, x, [&](Builder& b, Value* q, Value* k, Value* v, int64_t layer) {
    std::string prefix = std::string(kKvCachePrefix) + "h." + std::to_string(layer) + ".";
    Value* kc = b.select(here, k, b.readState(prefix + "k"));
    Value* vc = b.select(here, v, b.readState(prefix + "v"));
    b.assignState(prefix + "k", kc);
    b.assignState(prefix + "v", vc);
    return b.attention(q, kc, vc, mask, /*causal=*/false);
  });
  b.output("logits", b.reshape(lmHead(b, c, hidden), {c.vocab}));
  return f;
}

Function& buildGptLoss(Module& m, const TransformerConfig& c, const std::string& name) {
  addGptParameters(m, c);
  Function& f = m.addFunction(name);
  Builder b(m, f);
  Value* tokens = b.param("tokens", {DType::I32, {c.batch, c.context + 1}});
  Value* ids = b.slice(tokens, {0, 0}, {c.batch, c.context});
  Value* targets = b.slice(tokens, {0, 1}, {c.batch, c.context + 1});
  Value* logits = gptLogits(b, c, ids);
  auto s = b.scope("loss");
  b.output("loss", b.crossEntropy(logits, targets));
  return f;
}

Function& buildGptEvalStep(Module& m, const TransformerConfig& c, Location where) {
  Function& f = m.addFunction("eval_step");
  Builder b(m, f);
  Value* tokens = b.param("tokens", {DType::I32, {c.batch, c.context + 1}});
  Value* logits = gptLogits(b, c, b.slice(tokens, {0, 0}, {c.batch, c.context}));
  b.setLocation(where);
  auto s = b.scope("loss");
  b.output("val_loss", b.crossEntropy(logits, b.slice(tokens, {0, 1}, {c.batch, c.context + 1})));
  return f;
}

}  // namespace kiln
