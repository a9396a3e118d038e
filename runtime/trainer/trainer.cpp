#include "runtime/trainer/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "ir/parser.h"
#include "ir/verifier.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/data/corpus.h"
#include "runtime/engine/device_registry.h"
#include "eval/interpreter.h"
#include "runtime/trainer/batch_source.h"
#include "runtime/trainer/loaded_executable.h"
#include "eval/random.h"

namespace kiln {

namespace {

volatile std::sig_atomic_t gInterrupted = 0;
void onInterrupt(int) { gInterrupted = 1; }

// SIGINT sets gInterrupted while it lives (the loop then stops at a step boundary); the
// previous handler comes back however the scope is left.
class InterruptHandler {
 public:
  InterruptHandler() : previous_(std::signal(SIGINT, onInterrupt)) {}
  ~InterruptHandler() { std::signal(SIGINT, previous_); }
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

 private:
  void (*previous_)(int);
};

constexpr const char* kKvCache = "kv_cache.";

int fail(const Diagnostic& d) {
  std::cerr << d.str() << "\n";
  return 1;
}

// Command-line options: --name value or --name=value; flags without values.
struct Options {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& k) const {
    return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
  }
  std::string get(const std::string& k, const std::string& d) const {
    auto it = values.find(k);
    return it == values.end() ? d : it->second;
  }
};

Expected<Options> parseOptions(const std::vector<std::string>& args, const std::vector<std::string>& valued,
                               const std::vector<std::string>& flagNames) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) != 0) return makeError({}, "unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    bool hasValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    if (std::find(flagNames.begin(), flagNames.end(), name) != flagNames.end()) {
      if (hasValue) return makeError({}, "option --" + name + " takes no value");
      o.flags.push_back(name);
      continue;
    }
    if (std::find(valued.begin(), valued.end(), name) == valued.end()) return makeError({}, "unknown option '" + a + "'");
    if (!hasValue) {
      if (i + 1 >= args.size()) return makeError({}, "option --" + name + " needs a value");
      value = args[++i];
    }
    o.values[name] = value;
  }
  return o;
}

std::string plainNumber(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(int64_t(v)) : formatDouble(v);
}

Expected<double> numberOption(const Options& o, const std::string& key, double fallback, double lo, double hi) {
  if (!o.values.count(key)) return fallback;
  const std::string& s = o.values.at(key);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
    return makeError({}, "--" + key + " must be a number in [" + plainNumber(lo) + ", " + plainNumber(hi) + "], got '" + s + "'");
  return v;
}

std::string formatDuration(double seconds) {
  int s = int(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

class Trainer {
 public:
  Trainer(const Executable& exe, Module m, BpeTokenizer tok)
      : exe_(exe), cfg_(exe.configMap()), m_(std::move(m)), tok_(std::move(tok)) {}

  int64_t cfgInt(const std::string& k) const { return std::stoll(cfg_.at(k)); }
  std::string cfg(const std::string& k) const { return cfg_.count(k) ? cfg_.at(k) : ""; }

  int info() {
    std::string kind = cfg("model.kind") == "bert" ? "BERT" : cfg("model.kind") == "bart" ? "BART (encoder-decoder)" : "GPT";
    std::cout << "model: " << kind << ", objective " << cfg("objective") << ", " << cfg("model.layers") << " layers, d_model " << cfg("model.d_model") << ", vocab "
              << cfg("model.vocab") << ", context " << cfg("model.context") << ", batch " << cfg("model.batch") << "\n"
              << "parameters: " << cfg("model.parameters") << "\n"
              << "FLOPs per train step: " << std::stod(cfg("model.flops_per_step")) / 1e9 << " GFLOP\n"
              << "planned memory (train_step):\n"
              << exe_.sections.at("plan") << "device: " << device_ << " on " << describeDevice(device_, deviceInputs()) << "\n"
              << "spec: " << cfg("spec") << "\n";
    return 0;
  }

  // ---- state and checkpoints ----
  // A head's parameters (the compiler lists their prefixes) may be missing from init_from.
  bool isHeadState(const std::string& name) const {
    for (const auto& prefix : splitConfigList(cfg("model.head_prefixes")))
      if (name.rfind(prefix, 0) == 0) return true;
    return false;
  }
  std::string checkpointPath(const Options& o) const { return o.get("checkpoint", cfg("train.checkpoint")); }
  void setDevice(std::string d, std::string origin) {
    device_ = std::move(d);
    origin_ = std::move(origin);
  }
  DeviceInputs deviceInputs() const { return DeviceInputs{m_, exe_.sections, origin_}; }
  Expected<std::unique_ptr<Engine>> freshEngine() const { return makeEngine(device_, deviceInputs()); }

  Status saveCheckpoint(const Engine& engine, int64_t step, const std::string& path,
                        const std::map<std::string, std::string>& extra = {}) const {
    std::vector<std::pair<std::string, TensorType>> entries;
    for (const StateVar& s : m_.states)
      if (s.name.rfind(kKvCache, 0) != 0) entries.emplace_back(s.name, s.type);
    std::map<std::string, std::string> metadata = {
        {"format", "kiln-checkpoint-1"},
        {"kiln.step", std::to_string(step)},
        {"kiln.seed", cfg("train.seed")},
        {"kiln.data_position", std::to_string(step)},  // batches are a function of the step
        {"kiln.tokenizer", tokenizerHash()},            // so another model can check it reads the same ids
    };
    metadata.insert(extra.begin(), extra.end());
    return writeSafetensors(path, entries, metadata, [&](const std::string& name) { return engine.stateTensor(name); });
  }

  // Hugging Face GPT-2 files may prefix names with "transformer." and carry buffers that are
  // not parameters (the causal mask "h.N.attn.bias", "h.N.attn.masked_bias") and a tied
  // "lm_head.weight"; the first is stripped, the rest skipped. Returns "" for skipped tensors.
  static std::string modelName(const std::string& stored) {
    std::string n = stored.rfind("transformer.", 0) == 0 ? stored.substr(12) : stored;
    auto endsWith = [&](const char* suffix) {
      std::string sfx(suffix);
      return n.size() >= sfx.size() && n.compare(n.size() - sfx.size(), sfx.size(), sfx) == 0;
    };
    if (n == "lm_head.weight" || endsWith(".attn.bias") || endsWith(".attn.masked_bias")) return "";
    return n;
  }

  // Model weights (trainable or frozen), as opposed to optimizer state and caches.
  static bool isWeight(const std::string& name) {
    return name.rfind("optimizer.", 0) != 0 && name.rfind(kKvCache, 0) != 0;
  }

  std::string tokenizerHash() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(tok_.vocabJson() + tok_.mergesTxt())));
    return buf;
  }

  // Initializes the weights from another model's checkpoint (a pretrained body, or Hugging Face
  // GPT-2): every weight of this model must be there except a classification head, which
  // keeps its initial values; the file's other tensors (another objective's heads) are skipped.
  Status initFrom(Engine& engine, const std::string& path) const {
    auto f = readSafetensors(path);
    if (!f) return f.error();
    auto tokHash = f->metadata.find("kiln.tokenizer");
    if (tokHash != f->metadata.end() && tokHash->second != tokenizerHash())
      return makeError(Location{path, 0, 0}, "this checkpoint was trained with another tokenizer; the model would read "
                                             "different token ids (train both specs on the same data and vocab_size)");
    std::vector<std::pair<std::string, const ref::Tensor*>> accepted;
    int64_t skipped = 0;
    for (const auto& [stored, t] : f->tensors) {
      std::string name = modelName(stored);
      const StateVar* var = name.empty() ? nullptr : m_.findState(name);
      if (!var || !isWeight(name)) {
        skipped += !name.empty() && isWeight(name);  // another objective's head; optimizer state is not news
        continue;
      }
      if (var->type != t.type)
        return makeError(Location{path, 0, 0}, "tensor '" + name + "' is " + t.type.str() + ", the model needs " + var->type.str());
      accepted.emplace_back(name, &t);
    }
    std::vector<std::string> fresh;
    for (const auto& s : m_.states) {
      if (!isWeight(s.name) || f->tensors.count(s.name) || f->tensors.count("transformer." + s.name)) continue;
      if (!isHeadState(s.name)) return makeError(Location{path, 0, 0}, "checkpoint lacks tensor '" + s.name + "'");
      fresh.push_back(s.name);
    }
    for (const auto& [name, t] : accepted) engine.setStateTensor(name, *t);
    std::cerr << "initialized " << accepted.size() << " tensors from " << path;
    if (skipped) std::cerr << " (" << skipped << " of its weights are not part of this model)";
    if (!fresh.empty()) std::cerr << "; " << fresh.size() << " head tensor(s) start fresh";
    std::cerr << "\n";
    return okStatus();
  }

  // Loads a checkpoint of this model into `st`; with `full`, every saved state (optimizer
  // too) must be there.
  Expected<int64_t> loadCheckpoint(Engine& engine, const std::string& path, bool full,
                                   std::map<std::string, std::string>* metadata = nullptr) const {
    auto f = readSafetensors(path);
    if (!f) return f.error();
    if (metadata) *metadata = f->metadata;
    // Everything is checked before any state changes, so a bad file leaves the model as it was.
    std::vector<std::pair<std::string, const ref::Tensor*>> accepted;
    for (const auto& [stored, t] : f->tensors) {
      std::string name = modelName(stored);
      if (name.empty()) continue;
      const StateVar* var = m_.findState(name);
      if (!var) return makeError(Location{path, 0, 0}, "tensor '" + name + "' does not belong to this model");
      if (var->type != t.type)
        return makeError(Location{path, 0, 0}, "tensor '" + name + "' is " + t.type.str() + ", the model needs " + var->type.str());
      accepted.emplace_back(name, &t);
    }
    for (const auto& s : m_.states) {
      bool needed = isWeight(s.name) || (full && s.name.rfind(kKvCache, 0) != 0);
      if (needed && !f->tensors.count(s.name) && !f->tensors.count("transformer." + s.name))
        return makeError(Location{path, 0, 0}, "checkpoint lacks tensor '" + s.name + "'");
    }
    for (const auto& [name, t] : accepted) engine.setStateTensor(name, *t);
    auto step = f->metadata.find("kiln.step");
    if (full && step == f->metadata.end()) return makeError(Location{path, 0, 0}, "checkpoint lacks its step (kiln.step)");
    return step == f->metadata.end() ? int64_t(0) : std::stoll(step->second);
  }

  // ---- data ----
  CorpusSource corpusSource() const {
    CorpusSource src;
    src.files = splitConfigList(cfg("data.files"));
    src.exclude = splitConfigList(cfg("data.exclude"));
    src.separator = cfg("data.separator");
    src.valFraction = std::stod(cfg("data.val_fraction"));
    src.seed = uint64_t(cfgInt("train.seed"));
    return src;
  }

  Expected<Corpus> corpus() const {
    CorpusSource src = corpusSource();
    auto docs = readDocuments(src);
    if (!docs) return docs.error();
    const char* env = std::getenv("KILN_CACHE_DIR");
    const char* home = std::getenv("HOME");
    std::string cacheDir = env ? env : home ? std::string(home) + "/.cache/kiln" : "";
    return buildCorpus(*docs, tok_, src, cacheDir);
  }

  // The data of this trainer's objective, with its baseline.
  Expected<std::unique_ptr<BatchSource>> dataSource(Engine* engine = nullptr) const {
    BatchSettings s;
    s.objective = cfg("objective");
    s.batch = cfgInt("model.batch");
    s.context = cfgInt("model.context");
    s.seed = uint64_t(cfgInt("train.seed"));
    s.nsp = cfg("objective.nsp") != "false";
    s.maskProb = cfg("objective.mask_prob").empty() ? 0.15 : std::stod(cfg("objective.mask_prob"));
    s.tokenizerVocab = tok_.vocabSize();
    s.encoder = cfg("model.kind") == "bert";
    s.padToken = tok_.endOfText();
    s.noise = cfg("objective.noise").empty() ? "t5" : cfg("objective.noise");
    if (!cfg("objective.noise_density").empty()) s.noiseDensity = std::stod(cfg("objective.noise_density"));
    if (!cfg("objective.mean_span").empty()) s.meanSpan = std::stod(cfg("objective.mean_span"));
    if (s.objective == "classify" || s.objective == "cloze") {
      CorpusSource src = corpusSource();
      auto texts = readLabeledTexts(src, cfg("data.labels"));
      if (!texts) return texts.error();
      std::vector<std::string> classes = splitConfigList(cfg("objective.classes"));
      if (s.objective == "cloze")  // only the verbalizer's labels take part
        std::erase_if(*texts, [&](const LabeledText& t) { return std::find(classes.begin(), classes.end(), t.label) == classes.end(); });
      auto data = labelData(*texts, tok_, src);
      if (!data) return data.error();
      if (data->classes != classes)
        return makeError({}, "the labeled data's classes changed since compilation; compile the spec again");
      if (s.objective == "classify") return makeClassifyBatchSource(data.take(), s);
      auto tpl = ClozeTemplate::parse(cfg("objective.template"), tok_);
      if (!tpl) return tpl.error();
      return makeClozeBatchSource(data.take(), tpl.take(), cfgInt("objective.shots"), s);
    }
    auto c = corpus();
    if (!c) return c.error();
    if (s.objective == "reinforce") {
      s.objective = "causal_lm";  // evaluation: the policy's language-model loss on the corpus
      if (!engine) return makeBatchSource(c.take(), s);
      ReinforceSettings r;
      r.prompts = splitConfigList(cfg("objective.prompts"));
      r.maxLength = cfgInt("objective.max_length");
      r.temperature = std::stod(cfg("objective.temperature"));
      r.gamma = std::stod(cfg("objective.gamma"));
      r.baselineDecay = std::stod(cfg("objective.baseline_decay"));
      r.reward.kinds = splitConfigList(cfg("objective.reward"));
      r.reward.keywords = splitConfigList(cfg("objective.keywords"));
      r.reward.targetLength = cfgInt("objective.target_length");
      if (std::find(r.reward.kinds.begin(), r.reward.kinds.end(), "classifier") != r.reward.kinds.end()) {
        auto cls = ClassifierReward::load(cfg("objective.reward_model"), cfg("objective.reward_checkpoint"), cfg("objective.reward_label"));
        if (!cls) return cls.error();
        r.classifier = std::move(*cls);
      }
      auto stepOf = [](Engine* e) {
        return [e](int32_t token, int32_t pos) -> Expected<ref::Tensor> {
          auto outs = e->call("sample_step", {ref::Tensor({DType::I32, {1}}, {double(token)}), ref::Tensor({DType::I32, {}}, {double(pos)})});
          if (!outs) return outs.error();
          return (*outs)[0];
        };
      };
      r.klCoef = cfg("objective.kl_coef").empty() ? 0.0 : std::stod(cfg("objective.kl_coef"));
      SampleStep reference;
      if (r.klCoef > 0) {  // the initial policy, on an engine of its own
        auto refEngine = freshEngine();
        if (!refEngine) return refEngine.error();
        if (!initialPolicy_.empty())
          if (auto st = initFrom(**refEngine, initialPolicy_); !st) return st.error();
        referenceEngine_ = refEngine.take();
        reference = stepOf(referenceEngine_.get());
      }
      return makeReinforceBatchSource(c.take(), s, r, tok_, stepOf(engine), reference);
    }
    return makeBatchSource(c.take(), s);
  }

  // Calls `fn` with host tensors typed as its parameters (float inputs follow the model dtype).
  Expected<std::vector<ref::Tensor>> call(Engine& engine, const std::string& fn, std::vector<ref::Tensor> in) const {
    const Function* f = m_.findFunction(fn);
    if (f && f->params.size() == in.size())
      for (size_t i = 0; i < in.size(); ++i)
        if (isFloat(in[i].type.dtype) && isFloat(f->params[i]->type.dtype)) in[i].type.dtype = f->params[i]->type.dtype;
    return engine.call(fn, in);
  }

  // Scalar eval_step outputs averaged over the evaluation batches, by name. A `val_logits`
  // output (classification) gives accuracy and macro-F1 over every example instead.
  Expected<std::vector<std::pair<std::string, double>>> evaluate(const BatchSource& data, Engine& engine, int64_t requested) const {
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
  static std::string describeEval(const std::vector<std::pair<std::string, double>>& v, const BatchSource& data) {
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

  // ---- train ----
  int train(const Options& o) {
    auto steps = numberOption(o, "steps", double(cfgInt("train.steps")), 1, 1e9);
    if (!steps) return fail(steps.error());
    auto evalEvery = numberOption(o, "eval-every", double(cfgInt("train.eval_every")), 0, 1e9);
    if (!evalEvery) return fail(evalEvery.error());
    auto ckptEvery = numberOption(o, "checkpoint-every", double(cfgInt("train.checkpoint_every")), 0, 1e9);
    if (!ckptEvery) return fail(ckptEvery.error());
    auto logEvery = numberOption(o, "log-every", double(cfgInt("train.log_every")), 1, 1e9);
    if (!logEvery) return fail(logEvery.error());
    std::string ckpt = checkpointPath(o);
    std::string metricsPath = o.get("metrics", cfg("train.metrics"));
    const int64_t totalSteps = int64_t(*steps);

    auto engine = freshEngine();
    if (!engine) return fail(engine.error());
    Engine& st = **engine;
    int64_t step = 0;
    if (o.has("init-from") && o.has("resume")) return fail(makeError({}, "--init-from and --resume exclude each other"));
    // A fresh run starts from --init-from, else from the spec's objective.init_from.
    std::string initPath = o.get("init-from", o.has("resume") ? "" : cfg("objective.init_from"));
    initialPolicy_ = o.get("init-from", cfg("objective.init_from"));  // REINFORCE's KL reference
    if (!initPath.empty())
      if (auto s = initFrom(st, initPath); !s) return fail(s.error());
    std::map<std::string, std::string> resumedMeta;
    if (o.has("resume")) {
      auto loaded = loadCheckpoint(st, ckpt, /*full=*/true, &resumedMeta);
      if (!loaded) return fail(loaded.error());
      step = *loaded;
      std::cerr << "resumed from " << ckpt << " at step " << step << "\n";
      if (step >= totalSteps) {
        std::cerr << "nothing to do: the checkpoint is at step " << step << " of " << totalSteps << "\n";
        return 0;
      }
    }
    auto source = dataSource(&st);
    if (!source) return fail(source.error());
    if (auto s = (*source)->restoreState(resumedMeta); !s) return fail(s.error());
    std::ofstream metrics(metricsPath, o.has("resume") ? std::ios::app : std::ios::trunc);
    if (!metrics) return fail(makeError(Location{metricsPath, 0, 0}, "cannot write the metrics log"));
    std::cerr << (*source)->describe() << "\n"
              << "model: " << cfg("model.parameters") << " parameters, "
              << std::stod(cfg("model.flops_per_step")) / 1e9 << " GFLOP per step, " << (*source)->tokensPerStep()
              << " tokens per step\n"
              << "device: " << device_ << " on " << describeDevice(device_, deviceInputs()) << "\n";
    // train_step's outputs: the loss, any metrics of the objective, then lr and grad_norm.
    const Function& trainFn = *m_.findFunction("train_step");
    auto outputIndex = [&](const std::string& n) {
      auto it = std::find(trainFn.outputNames.begin(), trainFn.outputNames.end(), n);
      return size_t(it - trainFn.outputNames.begin());
    };
    const size_t lossAt = outputIndex("loss"), lrAt = outputIndex("lr"), normAt = outputIndex("grad_norm");
    if (lossAt == trainFn.outputNames.size() || lrAt == trainFn.outputNames.size() || normAt == trainFn.outputNames.size())
      return fail(makeError({}, "damaged executable: train_step lacks loss, lr or grad_norm"));

    if (o.has("profile")) st.setProfiling(true);
    gInterrupted = 0;
    InterruptHandler interruptible;  // restored on every path out
    const bool tty = ::isatty(STDERR_FILENO);
    auto start = std::chrono::steady_clock::now();
    int64_t firstStep = step;
    double loss = 0;
    int rc = 0;
    while (step < totalSteps) {
      ++step;
      auto batch = (*source)->train(uint64_t(step));
      if (!batch) return fail(batch.error());
      auto callStart = std::chrono::steady_clock::now();
      auto outs = call(st, "train_step", batch.take());
      double stepSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - callStart).count();
      if (!outs) return fail(outs.error());
      loss = (*outs)[lossAt][0];
      double lr = (*outs)[lrAt][0], gnorm = (*outs)[normAt][0];
      std::string extra, extraText;  // the objective's metrics (accuracies, rewards)
      std::vector<std::pair<std::string, double>> stepMetrics = (*source)->trainMetrics();
      for (size_t i = 0; i < outs->size(); ++i)
        if (i != lossAt && i != lrAt && i != normAt) stepMetrics.emplace_back(trainFn.outputNames[i], (*outs)[i][0]);
      for (const auto& [name, value] : stepMetrics) {
        extra += ", \"" + name + "\": " + formatDouble(value);
        char buf[64];
        std::snprintf(buf, sizeof buf, " %s %.3f", name.c_str(), value);
        extraText += buf;
      }
      if (!std::isfinite(loss)) {
        std::cerr << "\nerror: the loss is " << loss << " at step " << step
                  << "; not saving this state (the last checkpoint is kept)\n";
        rc = 1;
        break;
      }
      double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double tokPerSec = double((step - firstStep) * (*source)->tokensPerStep()) / std::max(elapsed, 1e-9);
      double eta = elapsed / double(step - firstStep) * double(totalSteps - step);
      metrics << "{\"step\": " << step << ", \"loss\": " << formatDouble(loss) << ", \"lr\": " << formatDouble(lr)
              << ", \"grad_norm\": " << formatDouble(gnorm) << ", \"step_s\": " << formatDouble(stepSeconds)
              << ", \"tokens_per_s\": " << formatDouble(tokPerSec) << extra << "}\n";
      if (tty) {
        int width = 24, filled = int(double(width) * double(step) / double(totalSteps));
        std::fprintf(stderr, "\rstep %lld/%lld [%s%s] loss %.4f | %.0f tok/s | ETA %s   ", (long long)step,
                     (long long)totalSteps, std::string(size_t(filled), '#').c_str(),
                     std::string(size_t(width - filled), '.').c_str(), loss, tokPerSec, formatDuration(eta).c_str());
      }
      if (!tty && (step % int64_t(*logEvery) == 0 || step == totalSteps))
        std::fprintf(stderr, "step %lld/%lld loss %.4f%s lr %.3g grad_norm %.3f tok/s %.0f eta %s\n", (long long)step,
                     (long long)totalSteps, loss, extraText.c_str(), lr, gnorm, tokPerSec, formatDuration(eta).c_str());
      bool evalNow = (*evalEvery > 0 && step % int64_t(*evalEvery) == 0) || step == totalSteps;
      if (evalNow) {
        auto v = evaluate(**source, st, cfgInt("train.eval_batches"));
        if (!v) return fail(v.error());
        metrics << "{\"step\": " << step;
        for (const auto& [name, x] : *v) metrics << ", \"" << name << "\": " << formatDouble(x);
        metrics << "}\n";
        std::fprintf(stderr, "%sstep %lld: %s\n", tty ? "\n" : "", (long long)step, describeEval(*v, **source).c_str());
      }
      bool saveNow = (*ckptEvery > 0 && step % int64_t(*ckptEvery) == 0) || step == totalSteps || gInterrupted;
      if (saveNow) {
        if (auto s = saveCheckpoint(st, step, ckpt, (*source)->checkpointState()); !s) return fail(s.error());
        if (gInterrupted || step != totalSteps) std::fprintf(stderr, "%ssaved %s at step %lld\n", tty ? "\n" : "", ckpt.c_str(), (long long)step);
      }
      if (gInterrupted) {
        std::fprintf(stderr, "interrupted: checkpoint saved at step %lld\n", (long long)step);
        rc = 130;
        break;
      }
    }
    if (o.has("profile")) printProfile(st);
    if (rc == 0) std::fprintf(stderr, "%sdone: %lld steps, final loss %.4f, checkpoint %s\n", tty ? "\n" : "", (long long)step, loss, ckpt.c_str());
    return rc;
  }

  static void printProfile(const Engine& e) {
    auto kinds = e.profileByKind();
    if (kinds.empty()) {
      std::cerr << "profile: the " << e.device() << " device does not profile\n";
      return;
    }
    double total = 0;
    for (const auto& k : kinds) total += k.seconds;
    auto table = [&](const char* title, const std::vector<Engine::ProfileEntry>& rows) {
      std::fprintf(stderr, "%s (of %.3f s in ops):\n", title, total);
      for (size_t i = 0; i < rows.size() && i < 25; ++i) {
        // Matmuls and attention also show their rate (cost-model FLOPs over measured time).
        char rate[32] = "";
        if (rows[i].flops > 0 && rows[i].seconds > 0)
          std::snprintf(rate, sizeof rate, "%6.0f GFLOP/s", rows[i].flops / rows[i].seconds / 1e9);
        std::fprintf(stderr, "  %10.3f s %5.1f%% %8lld calls %14s  %s\n", rows[i].seconds, 100 * rows[i].seconds / total,
                     (long long)rows[i].calls, rate, rows[i].key.c_str());
      }
    };
    table("time by op kind", kinds);
    table("time by model component", e.profileByComponent());
  }

  // Writes the initial state (step 0) as a checkpoint: the weights another framework can start
  // from for a parity check.
  int init(const Options& o) {
    auto engine = freshEngine();
    if (!engine) return fail(engine.error());
    std::string ckpt = checkpointPath(o);
    if (auto s = saveCheckpoint(**engine, 0, ckpt); !s) return fail(s.error());
    std::cout << "wrote the initial state to " << ckpt << "\n";
    return 0;
  }

  // The loss of eval_step on a batch of token ids read from a file (whitespace-separated,
  // batch x (context + 1) of them).
  int score(const Options& o) {
    if (cfg("objective") != "causal_lm") return fail(makeError({}, "score needs a causal LM; this trainer's objective is " + cfg("objective")));
    auto engine = freshEngine();
    if (!engine) return fail(engine.error());
    auto loaded = loadCheckpoint(**engine, checkpointPath(o), false);
    if (!loaded) return fail(loaded.error());
    std::string path = o.get("tokens", "");
    auto text = readFile(path);
    if (!text) return fail(text.error());
    const int64_t B = cfgInt("model.batch"), T = cfgInt("model.context"), V = cfgInt("model.vocab");
    ref::Tensor batch({DType::I32, {B, T + 1}});
    std::istringstream in(*text);
    int64_t n = 0, id;
    while (in >> id) {
      if (n >= batch.size()) return fail(makeError(Location{path, 0, 0}, "more than " + std::to_string(batch.size()) + " token ids"));
      if (id < 0 || id >= V) return fail(makeError(Location{path, 0, 0}, "token id " + std::to_string(id) + " is out of range [0, " + std::to_string(V) + ")"));
      batch[n++] = double(id);
    }
    if (!in.eof()) return fail(makeError(Location{path, 0, 0}, "expected whitespace-separated token ids"));
    if (n != batch.size())
      return fail(makeError(Location{path, 0, 0}, "needs " + std::to_string(batch.size()) + " token ids (batch x (context + 1)), got " + std::to_string(n)));
    auto outs = (*engine)->call("eval_step", {batch});
    if (!outs) return fail(outs.error());
    std::printf("%.9g\n", (*outs)[0][0]);
    return 0;
  }

  // Evaluates this trainer's checkpoint, or with --init-from another model's weights as they are
  // (zero-shot: a pretrained LM scored through a cloze prompt).
  int eval(const Options& o) {
    auto engine = freshEngine();
    if (!engine) return fail(engine.error());
    Expected<int64_t> loaded = int64_t(0);
    if (o.has("init-from")) {
      if (auto s = initFrom(**engine, o.get("init-from", "")); !s) return fail(s.error());
    } else {
      loaded = loadCheckpoint(**engine, checkpointPath(o), false);
    }
    if (!loaded) return fail(loaded.error());
    auto batches = numberOption(o, "batches", double(cfgInt("train.eval_batches")), 1, 1e6);
    if (!batches) return fail(batches.error());
    auto source = dataSource();
    if (!source) return fail(source.error());
    auto v = evaluate(**source, **engine, int64_t(*batches));
    if (!v) return fail(v.error());
    std::cout << describeEval(*v, **source) << " at step " << *loaded << "\n";
    return 0;
  }

  int sample(const Options& o) {
    if (!m_.findFunction("sample_step"))
      return fail(makeError({}, "sample needs a causal LM; this trainer's objective is " + cfg("objective")));
    auto engine = freshEngine();
    if (!engine) return fail(engine.error());
    auto loaded = loadCheckpoint(**engine, checkpointPath(o), false);
    if (!loaded) return fail(loaded.error());
    auto maxTokens = numberOption(o, "max-tokens", 100, 1, 1e6);
    auto temperature = numberOption(o, "temperature", 0.8, 0, 100);
    auto topK = numberOption(o, "top-k", 40, 0, 1e9);
    auto seed = numberOption(o, "seed", 0, 0, 9e15);
    for (const auto* e : {&maxTokens, &temperature, &topK, &seed})
      if (!*e) return fail(e->error());
    std::string prompt = o.get("prompt", "");
    std::vector<int32_t> ids = tok_.encode(prompt);
    ids.insert(ids.begin(), tok_.endOfText());  // generation starts at a document boundary
    const int64_t context = cfgInt("model.context"), vocab = std::min(cfgInt("model.vocab"), tok_.vocabSize());
    if (int64_t(ids.size()) >= context)
      return fail(makeError({}, "the prompt has " + std::to_string(ids.size() - 1) + " tokens; the context holds " +
                                    std::to_string(context - 1)));
    std::vector<int32_t> generated;
    ref::Tensor logits;
    for (int64_t pos = 0; pos < context; ++pos) {
      bool feeding = pos < int64_t(ids.size());
      int32_t token = feeding ? ids[size_t(pos)] : generated.back();
      auto outs = (*engine)->call("sample_step", {ref::Tensor({DType::I32, {1}}, {double(token)}), ref::Tensor({DType::I32, {}}, {double(pos)})});
      if (!outs) return fail(outs.error());
      logits = (*outs)[0];
      if (pos + 1 < int64_t(ids.size())) continue;
      int32_t next = pick(logits, vocab, *temperature, int64_t(*topK), uint64_t(*seed), uint64_t(pos));
      if (next == tok_.endOfText() || int64_t(generated.size()) >= int64_t(*maxTokens)) break;
      generated.push_back(next);
    }
    std::cout << prompt << tok_.decode(generated) << "\n";
    return 0;
  }

 private:
  static int32_t pick(const ref::Tensor& logits, int64_t vocab, double temperature, int64_t topK, uint64_t seed, uint64_t n) {
    std::vector<std::pair<double, int32_t>> scored;
    for (int64_t i = 0; i < vocab; ++i) scored.emplace_back(logits[i], int32_t(i));
    std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    if (temperature == 0) return scored[0].second;  // greedy
    if (topK > 0 && topK < int64_t(scored.size())) scored.resize(size_t(topK));
    double mx = scored[0].first, total = 0;
    for (auto& [l, id] : scored) total += (l = std::exp((l - mx) / temperature));
    double r = counterUniform(seed, n) * total;
    for (auto& [p, id] : scored)
      if ((r -= p) <= 0) return id;
    return scored.back().second;
  }

  const Executable& exe_;
  std::map<std::string, std::string> cfg_;
  Module m_;
  BpeTokenizer tok_;
  std::string device_;
  std::string origin_;  // the trainer's path, for messages
  std::string initialPolicy_;
  mutable std::unique_ptr<Engine> referenceEngine_;
};

constexpr const char* kUsage =
    "usage: %s <command> [options]\n"
    "\n"
    "commands:\n"
    "  train   [--steps N] [--resume] [--init-from SAFETENSORS] [--checkpoint PATH] [--metrics PATH]\n"
    "          [--eval-every N] [--checkpoint-every N] [--log-every N] [--profile]\n"
    "  eval    [--checkpoint PATH] [--batches N]\n"
    "  sample  [--checkpoint PATH] [--prompt TEXT] [--max-tokens N] [--temperature T] [--top-k K] [--seed N]\n"
    "  init    [--checkpoint PATH]                 write the initial state (step 0)\n"
    "  score   --tokens FILE [--checkpoint PATH]   loss on one batch of token ids\n"
    "  info\n"
    "every command takes --device cpu|reference (default: the compile target)\n";

}  // namespace

int runTrainer(const Executable& exe, const std::vector<std::string>& args, const std::string& programName) {
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::fprintf(args.empty() ? stderr : stdout, kUsage, programName.c_str());
    return args.empty() ? 1 : 0;
  }
  auto loaded = loadExecutable(exe, programName);
  if (!loaded) return fail(loaded.error());
  Trainer trainer(exe, std::move(loaded->module), std::move(loaded->tokenizer));
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  std::vector<std::string> valued = {"device"}, flags;
  if (cmd == "train")
    valued.insert(valued.end(), {"steps", "checkpoint", "metrics", "eval-every", "checkpoint-every", "log-every", "init-from"}),
        flags = {"resume", "profile"};
  else if (cmd == "eval") valued.insert(valued.end(), {"checkpoint", "batches", "init-from"});
  else if (cmd == "init") valued.insert(valued.end(), {"checkpoint"});
  else if (cmd == "score") valued.insert(valued.end(), {"checkpoint", "tokens"});
  else if (cmd == "sample") valued.insert(valued.end(), {"checkpoint", "prompt", "max-tokens", "temperature", "top-k", "seed"});
  else if (cmd != "info") {
    std::fprintf(stderr, "error: unknown command '%s'\n", cmd.c_str());
    std::fprintf(stderr, kUsage, programName.c_str());
    return 1;
  }
  if (std::find_if(rest.begin(), rest.end(), [](const std::string& a) { return a.rfind("--batch", 0) == 0; }) != rest.end())
    return fail(makeError({}, "the batch size is compiled into this trainer (" + exe.config("model.batch") +
                                  "); compile another with `kiln compile SPEC --batch N`"));
  auto opts = parseOptions(rest, valued, flags);
  if (!opts) return fail(opts.error());
  std::string device = opts->get("device", exe.config("device"));
  if (!hasDevice(device)) return fail(makeError({}, "--device must be " + deviceNameList() + ", got '" + device + "'"));
  trainer.setDevice(device, programName);
  if (cmd == "train") return trainer.train(*opts);
  if (cmd == "eval") return trainer.eval(*opts);
  if (cmd == "init") return trainer.init(*opts);
  if (cmd == "score") return trainer.score(*opts);
  if (cmd == "sample") return trainer.sample(*opts);
  return trainer.info();
}

}  // namespace kiln
