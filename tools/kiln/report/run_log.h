// A training run as `kiln report` reads it: the trainer's metrics log (JSONL, one line per step
// and per evaluation) and, beside it, the run description the trainer wrote when the run started
// (runtime/trainer/run_description.h): spec, model, tokens per step, baselines, memory plan.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln::report {

// metric name -> step -> value. A step logged again (a resumed run that went back to an earlier
// checkpoint) keeps its last value; values logged as null (not finite) are left out.
using MetricSeries = std::map<std::string, std::map<int64_t, double>>;

struct Baseline {
  std::string metric, name;  // "val_loss", "unigram"
  double value = 0;
};

struct RunLog {
  std::string label;        // how the report names the run
  std::string metricsPath;  // the JSONL it was read from
  MetricSeries train;       // loss, lr, grad_norm, tokens_per_s, and the objective's train metrics
  MetricSeries eval;        // val_loss, val_accuracy, ...
  std::vector<int64_t> divergedSteps;

  // From the run description, when there is one.
  bool described = false;
  std::string spec, specPath, objective, model, device, planText;
  int64_t tokensPerStep = 0, parameters = 0, ranks = 1;
  std::vector<Baseline> baselines;
  std::vector<std::pair<std::string, int64_t>> planBytes;  // category -> bytes, in the file's order
};

// Reads a run from a metrics log or from a folder holding one (metrics.jsonl, else every
// *.jsonl in it: several runs). Errors name the file and line.
Expected<std::vector<RunLog>> readRuns(const std::string& path);

}  // namespace kiln::report
