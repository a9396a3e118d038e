// Where batches come from (the corpus or labeled data, per objective) and evaluation on them.
#include "runtime/trainer/trainer_session.h"

namespace kiln {

// ---- data ----
CorpusSource Trainer::corpusSource() const {
  CorpusSource src;
  src.files = splitConfigList(cfg("data.files"));
  src.exclude = splitConfigList(cfg("data.exclude"));
  src.separator = cfg("data.separator");
  src.valFraction = cfgNumber("data.val_fraction");
  src.seed = uint64_t(cfgInt("train.seed"));
  return src;
}

Expected<Corpus> Trainer::corpus() const {
  CorpusSource src = corpusSource();
  auto docs = readDocuments(src);
  if (!docs) return docs.error();
  const char* env = std::getenv("KILN_CACHE_DIR");
  const char* home = std::getenv("HOME");
  std::string cacheDir = env ? env : home ? std::string(home) + "/.cache/kiln" : "";
  return buildCorpus(*docs, tok_, src, cacheDir);
}

// The data of this trainer's objective, with its baseline: its run half makes it.
Expected<std::unique_ptr<BatchSource>> Trainer::dataSource(Engine* engine, int ranks, int rank) const {
  const ObjectiveData* objective = findObjectiveData(cfg("objective"));  // checkSettings found it
  ObjectiveDataInputs in{cfg_, tok_, {}, corpusSource(), [this] { return corpus(); }, engine, {}};
  // Data parallel: the global batch of every rank's rows, each rank training on its own (see
  // shardRows); REINFORCE samples its batches from the policy instead, each rank its own.
  const bool sampled = cfg("objective") == "reinforce";
  in.batch.batch = cfgInt("model.batch") * (sampled ? 1 : ranks);
  in.batch.context = cfgInt("model.context");
  in.batch.seed = uint64_t(cfgInt("train.seed")) + (sampled ? uint64_t(rank) * 0x9E3779B97F4A7C15ULL : 0);
  in.batch.tokenizerVocab = tok_.vocabSize();
  in.batch.encoder = cfg("model.kind") == "bert";
  in.batch.specials = tok_.encoderSpecials();
  in.batch.padToken = tok_.endOfText();
  in.initialEngine = [this]() -> Expected<std::unique_ptr<Engine>> {
    auto e = freshEngine();
    if (!e) return e.error();
    if (!initialPolicy_.empty())
      if (auto st = initFrom(**e, initialPolicy_); !st) return st.error();
    return e;
  };
  return objective->batches(in);
}

// Calls `fn` with host tensors typed as its parameters (float inputs follow the model dtype).
Expected<std::vector<ref::Tensor>> Trainer::call(Engine& engine, const std::string& fn, std::vector<ref::Tensor> in) const {
  const Function* f = m_.findFunction(fn);
  if (f && f->params.size() == in.size())
    for (size_t i = 0; i < in.size(); ++i)
      if (isFloat(in[i].type.dtype) && isFloat(f->params[i]->type.dtype)) in[i].type.dtype = f->params[i]->type.dtype;
  return engine.call(fn, in);
}

// Scalar eval_step outputs averaged over the evaluation batches, by name. A `val_logits`
// output (classification) gives accuracy and macro-F1 over every example instead.
Expected<std::vector<std::pair<std::string, double>>> Trainer::evaluate(const BatchSource& data, Engine& engine, int64_t requested) const {
  const Function* f = m_.findFunction("eval_step");
  const int64_t count = data.evalBatches(requested);
  std::vector<std::pair<std::string, double>> means;
  size_t logitsAt = f->outputNames.size(), labelsAt = f->params.size();
  for (size_t i = 0; i < f->outputNames.size(); ++i)
    if (f->outputs[i]->type.rank() == 0) means.emplace_back(f->outputNames[i], 0.0);
    else if (f->outputNames[i] == "val_logits") logitsAt = i;
  for (size_t i = 0; i < f->params.size(); ++i)
    if (f->params[i]->name == "labels") labelsAt = i;
  std::vector<std::pair<int32_t, int32_t>> predicted;  // (label, prediction)
  for (int64_t b = 0; b < count; ++b) {
    auto batch = data.eval(uint64_t(b));
    if (!batch) return batch.error();
    ref::Tensor labels = labelsAt < batch->size() ? (*batch)[labelsAt] : ref::Tensor();
    auto outs = call(engine, "eval_step", batch.take());
    if (!outs) return outs.error();
    size_t k = 0;
    for (size_t i = 0; i < outs->size(); ++i)
      if ((*outs)[i].type.rank() == 0) means[k++].second += (*outs)[i][0] / double(count);
    if (logitsAt < outs->size() && labels.size() > 0) {
      const ref::Tensor& lg = (*outs)[logitsAt];
      const int64_t K = lg.type.shape[1];
      for (int64_t r = 0; r < lg.type.shape[0]; ++r) {
        if (labels[r] < 0) continue;
        int64_t best = 0;
        for (int64_t j = 1; j < K; ++j)
          if (lg[r * K + j] > lg[r * K + best]) best = j;
        predicted.emplace_back(int32_t(labels[r]), int32_t(best));
      }
    }
  }
  if (!predicted.empty()) {
    int64_t K = f->outputs[logitsAt]->type.shape[1], correct = 0;
    std::vector<double> tp(static_cast<size_t>(K)), fp(static_cast<size_t>(K)), fn(static_cast<size_t>(K));
    for (auto [label, pred] : predicted) {
      correct += label == pred;
      if (label == pred) ++tp[size_t(label)];
      else ++fp[size_t(pred)], ++fn[size_t(label)];
    }
    double f1Sum = 0;  // macro-F1 over the classes present in the labels or the predictions
    int64_t present = 0;
    for (int64_t j = 0; j < K; ++j) {
      if (tp[size_t(j)] + fp[size_t(j)] + fn[size_t(j)] == 0) continue;
      ++present;
      f1Sum += 2 * tp[size_t(j)] / (2 * tp[size_t(j)] + fp[size_t(j)] + fn[size_t(j)]);
    }
    for (auto& [name, v] : means)
      if (name == "val_accuracy") v = double(correct) / double(predicted.size());
    means.emplace_back("val_macro_f1", present ? f1Sum / double(present) : 0.0);
  }
  return means;
}

// "val loss 4.4210 (unigram baseline 6.3870)" or "val loss 2.1, mlm accuracy 0.41, ...".
std::string Trainer::describeEval(const std::vector<std::pair<std::string, double>>& v, const BatchSource& data) {
  std::string s;
  char buf[96];
  for (const auto& [name, x] : v) {
    std::string label = name.rfind("val_", 0) == 0 ? name.substr(4) : name;
    for (char& ch : label) ch = ch == '_' ? ' ' : ch;
    std::snprintf(buf, sizeof buf, "%s%s%s %.4f", s.empty() ? "" : ", ", s.empty() ? "val " : "", label.c_str(), x);
    s += buf;
  }
  return s + data.baselineNote();
}

}  // namespace kiln
