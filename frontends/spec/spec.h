// Training specs: a TOML file with [model], [objective], [optimizer], [train] and [data]
// sections (reference: docs/spec.md). Every key is checked for name, type and range; errors
// carry the spec's file:line:col, the key, what is allowed, and the nearest valid key for a typo.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/optimizer/optimizer.h"
#include "ir/diagnostics.h"
#include "models/gpt.h"

namespace kiln {

struct TrainConfig {
  int64_t steps = 1000;
  int64_t seed = 1;
  int64_t evalEvery = 100;      // 0: only at the end
  int64_t evalBatches = 8;
  int64_t checkpointEvery = 0;  // 0: only at the end
  int64_t logEvery = 10;
  std::string checkpoint = "checkpoint.safetensors";
  std::string metrics = "metrics.jsonl";
  // What a step whose gradient norm or loss is not finite does: "stop" (the run ends without
  // saving that state) or "skip" (the update is not applied; the run goes on).
  std::string onDivergence = "stop";
};

struct DataConfig {
  std::vector<std::string> files;  // paths or globs, relative to the spec's folder
  std::vector<std::string> exclude;  // globs over file names to leave out
  std::string separator = "%";     // a line holding only this separates documents
  double valFraction = 0.1;
  // "train" (byte-level BPE on the corpus), "byte", or a folder holding GPT-2-style vocab.json
  // and merges.txt (GPT-2's own, say), relative to the spec's folder.
  std::string tokenizer = "train";
  std::string labels = "file_name";  // classify: "file_name" (a file's name labels its documents) or "jsonl"
};

// Settings of the objectives beyond causal LM (docs/spec.md).
struct ObjectiveConfig {
  bool nsp = true;          // mlm: add next-sentence prediction
  double maskProb = 0.15;   // mlm: fraction of tokens chosen for prediction
  std::string initFrom;     // classify: a checkpoint of the body (relative to the spec's folder)
  bool freeze = false;      // classify: train the head only
  // cloze: the prompt, and each label's words (the classes are the labels listed here).
  std::string clozeTemplate = "{text} This is about [MASK].";
  std::map<std::string, std::vector<std::string>> verbalizer;
  int64_t shots = 0;        // cloze: training examples per label (0: all)
  // reinforce: the policy's prompts and sampling, the reward, returns and baseline.
  std::vector<std::string> prompts = {""};
  int64_t maxLength = 24;
  double temperature = 1.0;
  double gamma = 1.0;
  double baselineDecay = 0.9;
  std::vector<std::string> reward = {"repetition"};
  std::vector<std::string> keywords;
  int64_t targetLength = 20;
  std::string rewardModel, rewardCheckpoint, rewardLabel;  // the "classifier" reward
  double klCoef = 0;        // reinforce: penalty on the KL to the initial policy
  // seq2seq: the corruption (t5 span corruption or bart text infilling).
  std::string noise = "t5";
  double noiseDensity = 0.15, meanSpan = 3.0;
};

struct Spec {
  std::string path;       // the spec file
  std::string modelKind = "gpt";
  TransformerConfig model;
  std::string objective = "causal_lm";
  ObjectiveConfig objectiveConfig;
  OptimizerConfig optimizer;
  TrainConfig train;
  DataConfig data;
  // Where each key was set ("model.layers" -> spec.toml:4:1); ops built from a setting carry it.
  std::map<std::string, Location> locations;

  Location locationOf(const std::string& key) const;
};

Expected<Spec> parseSpec(const std::string& text, const std::string& path);
Expected<Spec> loadSpec(const std::string& path);

// Every key the spec format knows, "section.key", in documentation order.
std::vector<std::string> specKeys();

}  // namespace kiln
