// Training specs: a TOML file with [model], [objective], [optimizer], [train] and [data]
// sections (reference: docs/spec.md); the [objective] keys are the chosen objective's own
// (objectives/objective.h). Every key is checked for name, type and range; errors
// carry the spec's file:line:col, the key, what is allowed, and the nearest valid key for a typo.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/optimizer/optimizer.h"
#include "ir/diagnostics.h"
#include "models/gpt.h"
#include "objectives/objective.h"

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
  // The planned memory the train step must fit in (bytes; 0: no limit): the compiler
  // recomputes activations until it does (compiler/remat).
  int64_t memoryLimit = 0;
  std::string memoryLimitText;  // as written ("6GiB")
  // Data parallel: each rank keeps and updates 1/N of the AdamW moments (ZeRO stage 1).
  bool shardOptimizer = false;
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

struct Spec {
  std::string path;       // the spec file
  std::string modelKind = "gpt";
  TransformerConfig model;
  // The type matmul and attention inputs are rounded to (model.compute_dtype): f32 (no
  // rounding: model.dtype throughout), or bf16 with f32 accumulation and everything else in
  // model.dtype (compiler/precision).
  DType computeDtype = DType::F32;
  // The target the trainer is compiled for (train.target; `kiln compile --target` overrides it;
  // empty: the first of targets/targets.def).
  std::string target;
  std::string objective;  // objective.kind (objectives/objectives.def; the first by default)
  ObjectiveOptions objectiveOptions;  // its other keys, typed by the objective
  OptimizerConfig optimizer;
  TrainConfig train;
  DataConfig data;
  // Where each key was set ("model.layers" -> spec.toml:4:1); ops built from a setting carry it.
  std::map<std::string, Location> locations;
  // Settings taken from a Hugging Face folder named by objective.init_from ("model.d_model =
  // 768"), for the compile log.
  std::vector<std::string> adopted;

  Location locationOf(const std::string& key) const;
};

Expected<Spec> parseSpec(const std::string& text, const std::string& path);
Expected<Spec> loadSpec(const std::string& path);

// Every key the spec format knows, "section.key", in documentation order.
std::vector<std::string> specKeys();

}  // namespace kiln
