// The trainer's commands over one loaded executable, split by concern: trainer.cpp (the
// command line, info, init, score, eval), trainer_checkpoints.cpp (checkpoints and init_from),
// trainer_data.cpp (corpora, batch sources, evaluation), train_loop.cpp (the train loop) and
// sampling.cpp. Internal to runtime/trainer; runTrainer (trainer.h) is the entry point.
#pragma once

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

#include "eval/interpreter.h"
#include "eval/random.h"
#include "ir/parser.h"
#include "ir/verifier.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/cli/args.h"
#include "runtime/data/corpus.h"
#include "runtime/engine/device_registry.h"
#include "runtime/trainer/batch_source.h"
#include "runtime/trainer/loaded_executable.h"
#include "runtime/trainer/metrics_log.h"
#include "runtime/trainer/objective_data.h"
#include "runtime/trainer/settings.h"

namespace kiln {

inline constexpr const char* kKvCache = "kv_cache.";

inline int fail(const Diagnostic& d) {
  std::cerr << d.str() << "\n";
  return 1;
}

// Command-line options (runtime/cli/args.h): --name value or --name=value; flags without values.
using Options = cli::Args;

inline std::string plainNumber(double v) {
  return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(int64_t(v)) : formatDouble(v);
}

inline Expected<double> numberOption(const Options& o, const std::string& key, double fallback, double lo, double hi) {
  if (!o.values.count(key)) return fallback;
  const std::string s = o.get(key);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
    return makeError({}, "--" + key + " must be a number in [" + plainNumber(lo) + ", " + plainNumber(hi) + "], got '" + s + "'");
  return v;
}

inline std::string formatDuration(double seconds) {
  int s = int(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

class Trainer {
 public:
  // `loaded` comes from loadExecutable(exe): its settings are already checked.
  Trainer(const Executable& exe, LoadedExecutable loaded)
      : exe_(exe), cfg_(std::move(loaded.settings)), m_(std::move(loaded.module)), tok_(std::move(loaded.tokenizer)) {}

  // Typed settings: checkSettings has checked every key's type when the executable was loaded.
  int64_t cfgInt(const std::string& k) const { return settingInt(cfg_, k); }
  double cfgNumber(const std::string& k) const { return settingNumber(cfg_, k); }
  std::string cfg(const std::string& k) const { return cfg_.count(k) ? cfg_.at(k) : ""; }

  int info();

  // ---- state and checkpoints ----
  // A head's parameters (the compiler lists their prefixes) may be missing from init_from.
  bool isHeadState(const std::string& name) const;
  std::string checkpointPath(const Options& o) const { return o.get("checkpoint", cfg("train.checkpoint")); }
  void setDevice(std::string d, std::string origin);
  DeviceInputs deviceInputs() const { return DeviceInputs{m_, exe_.sections, origin_}; }
  // Refused before any allocation when the compiled memory plan exceeds the memory this
  // process may use (trainer_checkpoints.cpp).
  Expected<std::unique_ptr<Engine>> freshEngine() const;

  Status saveCheckpoint(const Engine& engine, int64_t step, const std::string& path,
                        const std::map<std::string, std::string>& extra = {}) const;

  // Hugging Face GPT-2 files may prefix names with "transformer." and carry buffers that are
  // not parameters (the causal mask "h.N.attn.bias", "h.N.attn.masked_bias") and a tied
  // "lm_head.weight"; the first is stripped, the rest skipped. Returns "" for skipped tensors.
  static std::string modelName(const std::string& stored);

  // Model weights (trainable or frozen), as opposed to optimizer state and caches.
  static bool isWeight(const std::string& name);

  std::string tokenizerHash() const;

  // Initializes the weights from another model's checkpoint (a pretrained body, or Hugging Face
  // GPT-2): every weight of this model must be there except a classification head, which
  // keeps its initial values; the file's other tensors (another objective's heads) are skipped.
  Status initFrom(Engine& engine, const std::string& path) const;
  // A Hugging Face BERT folder's weights under kiln's names (BertModel's or BertForPreTraining's;
  // the position table cut to the context), refused unless its vocab.txt is the compiled one.
  Expected<SafetensorsFile> hfBertWeights(const std::string& dir) const;

  // Loads a checkpoint of this model into `st`; with `full`, every saved state (optimizer
  // too) must be there.
  Expected<int64_t> loadCheckpoint(Engine& engine, const std::string& path, bool full,
                                   std::map<std::string, std::string>* metadata = nullptr) const;

  // ---- data ----
  CorpusSource corpusSource() const;

  Expected<Corpus> corpus() const;

  // The data of this trainer's objective, with its baseline.
  // With `ranks` > 1, the global batch of a data-parallel run: `ranks` times the compiled batch
  // (REINFORCE: this rank's own samples).
  Expected<std::unique_ptr<BatchSource>> dataSource(Engine* engine = nullptr, int ranks = 1, int rank = 0) const;

  // Calls `fn` with host tensors typed as its parameters (float inputs follow the model dtype).
  Expected<std::vector<ref::Tensor>> call(Engine& engine, const std::string& fn, std::vector<ref::Tensor> in) const;

  // Scalar eval_step outputs averaged over the evaluation batches, by name. A `val_logits`
  // output (classification) gives accuracy and macro-F1 over every example instead.
  Expected<std::vector<std::pair<std::string, double>>> evaluate(const BatchSource& data, Engine& engine, int64_t requested) const;

  // "val loss 4.4210 (unigram baseline 6.3870)" or "val loss 2.1, mlm accuracy 0.41, ...".
  static std::string describeEval(const std::vector<std::pair<std::string, double>>& v, const BatchSource& data);

  // ---- train ----
  int train(const Options& o);

  // Writes what a run report shows besides the metrics (run_description.cpp) to
  // runDescriptionPath(metrics): the spec, the model, the tokens per step, the baselines,
  // the memory plan, the device and the ranks.
  Status describeRun(const std::string& metricsPath, const BatchSource& data, int ranks, int64_t tokensPerStep,
                     int64_t fromStep) const;

  // Data parallel (trainer_ranks.cpp): every rank must run this trainer on this device with the
  // same options; an error naming the first rank that does not.
  Status checkSameRun(const Options& o) const;
  // Rank `rank`'s rows of a global batch: rows [rank * batch, (rank + 1) * batch) of every input
  // with `ranks` * batch rows.
  static std::vector<ref::Tensor> shardRows(std::vector<ref::Tensor> global, int64_t batch, int rank, int ranks);

  static void printProfile(const Engine& e);

  // Writes the initial state (step 0) as a checkpoint: the weights another framework can start
  // from for a parity check.
  int init(const Options& o);

  // The loss of eval_step on a batch of token ids read from a file (whitespace-separated,
  // batch x (context + 1) of them).
  int score(const Options& o);
  int scoreInputs(const Options& o);

  // Evaluates this trainer's checkpoint, or with --init-from another model's weights as they are
  // (zero-shot: a pretrained LM scored through a cloze prompt).
  int eval(const Options& o);

  int sample(const Options& o);

  // Writes a checkpoint as a Hugging Face model folder (hf_export.cpp).
  int exportHf(const Options& o);

  // Prints the token ids of --text or --file.
  int tokenize(const Options& o);

 private:
  static int32_t pick(const ref::Tensor& logits, int64_t vocab, double temperature, int64_t topK, uint64_t seed, uint64_t n);

  const Executable& exe_;
  std::map<std::string, std::string> cfg_;
  Module m_;
  Tokenizer tok_;
  std::string device_;
  std::string origin_;  // the trainer's path, for messages
  std::string initialPolicy_;  // the weights a run started from (init_from)
};

}  // namespace kiln
