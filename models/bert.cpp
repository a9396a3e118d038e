#include "models/bert.h"

#include <cmath>
#include <numeric>

#include "models/layers.h"

namespace kiln {

namespace {

std::string layerName(int64_t i, const std::string& rest) { return "bert.encoder.layer." + std::to_string(i) + "." + rest; }


std::vector<int64_t> allAxes(const Value* v) {
  std::vector<int64_t> axes(size_t(v->type.rank()));
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

}  // namespace

void addBertParameters(Module& m, const TransformerConfig& c, BertHeads heads) {
  int64_t seed = c.seed * 1000;
  auto normal = [&]() { return Initializer{InitKind::Normal, 0.0, c.initStd, ++seed}; };
  auto add = [&](const std::string& name, Shape shape, Initializer init) {
    m.addState(name, {c.dtype, std::move(shape)}, init, true);
  };
  auto addLinear = [&](const std::string& prefix, int64_t out, int64_t in) {
    add(prefix + ".weight", {out, in}, normal());
    add(prefix + ".bias", {out}, Initializer{InitKind::Zeros});
  };
  auto addNorm = [&](const std::string& prefix) {
    add(prefix + ".weight", {c.dModel}, Initializer{InitKind::Ones});
    add(prefix + ".bias", {c.dModel}, Initializer{InitKind::Zeros});
  };
  const int64_t C = c.dModel;
  add("bert.embeddings.word_embeddings.weight", {c.vocab, C}, normal());
  add("bert.embeddings.position_embeddings.weight", {c.context, C}, normal());
  add("bert.embeddings.token_type_embeddings.weight", {2, C}, normal());
  addNorm("bert.embeddings.LayerNorm");
  for (int64_t i = 0; i < c.layers; ++i) {
    for (const char* qkv : {"query", "key", "value"}) addLinear(layerName(i, "attention.self.") + qkv, C, C);
    addLinear(layerName(i, "attention.output.dense"), C, C);
    addNorm(layerName(i, "attention.output.LayerNorm"));
    addLinear(layerName(i, "intermediate.dense"), c.dFF, C);
    addLinear(layerName(i, "output.dense"), C, c.dFF);
    addNorm(layerName(i, "output.LayerNorm"));
  }
  if (heads.mlm) {
    addLinear("cls.predictions.transform.dense", C, C);
    addNorm("cls.predictions.transform.LayerNorm");
    add("cls.predictions.bias", {c.vocab}, Initializer{InitKind::Zeros});
  }
  if (heads.pooler) addLinear("bert.pooler.dense", C, C);
  if (heads.nsp) addLinear("cls.seq_relationship", 2, C);
}

Value* bertEncoder(Builder& b, const TransformerConfig& c, Value* ids, Value* segments, Value* mask) {
  const int64_t T = ids->type.shape[1], C = c.dModel, H = c.heads;
  Value* x;
  {
    auto s = b.scope("bert.embeddings");
    b.setLocation(c.source("embedding"));
    x = b.gather(b.readState("bert.embeddings.word_embeddings.weight"), ids);  // [B, T, C]
    Value* pos = b.slice(b.readState("bert.embeddings.position_embeddings.weight"), {0, 0}, {T, C});
    x = b.add(b.add(x, pos), b.gather(b.readState("bert.embeddings.token_type_embeddings.weight"), segments));
    x = layerNorm(b, x, "bert.embeddings.LayerNorm", c.layerNormEps, NormScope::Prefix);
  }
  Value* additive = paddingBias(b, mask);
  for (int64_t i = 0; i < c.layers; ++i) {
    auto layer = b.scope("bert.encoder.layer." + std::to_string(i));
    b.setLocation(c.source("layers"));
    Value* a;
    {
      auto s = b.scope("attention");
      auto heads = [&](const char* which) {
        auto hs = b.scope(which);
        return splitHeads(b, linear(b, x, layerName(i, std::string("attention.self.") + which), WeightLayout::OutIn), H);
      };
      Value *q = heads("query"), *k = heads("key"), *v = heads("value");
      b.setLocation(c.source("attention"));
      a = b.attention(q, k, v, additive, /*causal=*/false);
      b.setLocation(c.source("layers"));
      a = linear(b, mergeHeads(b, a), layerName(i, "attention.output.dense"), WeightLayout::OutIn);
    }
    x = layerNorm(b, b.add(x, a), layerName(i, "attention.output.LayerNorm"), c.layerNormEps, NormScope::Prefix);
    Value* f;
    {
      auto s = b.scope("mlp");
      b.setLocation(c.source("mlp"));
      f = feedForward(b, x, layerName(i, "intermediate.dense"), layerName(i, "output.dense"), c.activation, "erf");  // BERT's GELU: erf
    }
    x = layerNorm(b, b.add(x, f), layerName(i, "output.LayerNorm"), c.layerNormEps, NormScope::Prefix);
  }
  return x;
}

Value* accuracy(Builder& b, Value* logits, Value* labels, int64_t ignoreIndex) {
  auto s = b.scope("accuracy");
  const int64_t V = logits->type.shape.back();
  Shape rows = labels->type.shape, column = rows;
  column.push_back(1);
  Value* ignore = b.full(double(ignoreIndex), labels->type);
  Value* valid = b.compare(OpKind::Ne, labels, ignore);
  Value* safe = b.select(valid, labels, b.full(0, labels->type));  // any in-range class for ignored rows
  Value* onehot = b.cast(b.compare(OpKind::Eq, b.iota({DType::I32, {V}}, 0), b.reshape(safe, column)), logits->type.dtype);
  Value* labelLogit = b.reduceSum(b.mul(logits, onehot), {-1});
  Value* best = b.reduceMax(logits, {-1});
  Value* correct = b.cast(b.compare(OpKind::Ge, labelLogit, best), logits->type.dtype);
  Value* validF = b.cast(valid, logits->type.dtype);
  Value* count = b.max(b.reduceSum(validF, allAxes(validF)), b.scalar(1.0, logits->type.dtype));
  return b.div(b.reduceSum(b.mul(correct, validF), allAxes(correct)), count);
}

Function& buildBertPretraining(Module& m, const TransformerConfig& c, bool nsp, const std::string& name,
                               const std::string& outputPrefix) {
  Function& f = m.addFunction(name);
  Builder b(m, f);
  const int64_t B = c.batch, T = c.context, C = c.dModel;
  Value* ids = b.param("input_ids", {DType::I32, {B, T}});
  Value* segments = b.param("segment_ids", {DType::I32, {B, T}});
  Value* mask = b.param("attention_mask", {c.dtype, {B, T}});
  Value* mlmLabels = b.param("mlm_labels", {DType::I32, {B, T}});
  Value* nspLabels = nsp ? b.param("nsp_labels", {DType::I32, {B}}) : nullptr;
  Value* h = bertEncoder(b, c, ids, segments, mask);
  Value* mlmLogits;
  {
    auto s = b.scope("cls.predictions");
    b.setLocation(c.source("lm_head"));
    Value* t = activation(b, c.activation, "erf", linear(b, h, "cls.predictions.transform.dense", WeightLayout::OutIn));
    t = layerNorm(b, t, "cls.predictions.transform.LayerNorm", c.layerNormEps, NormScope::Prefix);
    mlmLogits = b.add(b.matmul(t, b.readState("bert.embeddings.word_embeddings.weight"), false, true),
                      b.readState("cls.predictions.bias"));  // [B, T, V], decoder tied to the embeddings
  }
  b.setLocation(c.source("objective"));
  Value* loss;
  {
    auto s = b.scope("loss");
    loss = b.crossEntropy(mlmLogits, mlmLabels, -100);
  }
  Value* nspLogits = nullptr;
  if (nsp) {
    {
      auto s = b.scope("bert.pooler");
      Value* first = b.reshape(b.slice(h, {0, 0, 0}, {B, 1, C}), {B, C});  // the [CLS] position
      nspLogits = linear(b, b.tanh(linear(b, first, "bert.pooler.dense", WeightLayout::OutIn)), "cls.seq_relationship", WeightLayout::OutIn);
    }
    auto s = b.scope("loss");
    loss = b.add(loss, b.crossEntropy(nspLogits, nspLabels, -100));
  }
  b.output(outputPrefix + "loss", loss);
  b.output(outputPrefix + "mlm_accuracy", accuracy(b, mlmLogits, mlmLabels, -100));
  if (nsp) b.output(outputPrefix + "nsp_accuracy", accuracy(b, nspLogits, nspLabels, -100));
  // The evaluation also gives the encoder's last hidden states, for `score --outputs`: what a
  // user compares with transformers' BertModel (scripts/interop/hf_check.py does).
  if (!outputPrefix.empty()) b.output(outputPrefix + "hidden", h);
  return f;
}

}  // namespace kiln
