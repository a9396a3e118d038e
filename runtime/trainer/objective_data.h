// An objective's run half: the settings it reads from a trainer and the batches it makes from
// its data. Each objective registers one (objectives/<name>/<name>_data.cpp, listed in
// objectives/objectives.def); the trainer finds it by the executable's "objective" setting and
// never names an objective itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/tokenizer.h"
#include "runtime/data/corpus.h"
#include "runtime/data/labeled_data.h"
#include "runtime/engine/engine.h"
#include "runtime/trainer/batch_source.h"
#include "runtime/trainer/settings.h"

namespace kiln {

// What a run half gets from the trainer, for the duration of ObjectiveData::batches.
struct ObjectiveDataInputs {
  const std::map<std::string, std::string>& settings;  // checked against the schema
  const Tokenizer& tokenizer;
  BatchSettings batch;      // shapes, seed and the tokenizer's facts
  CorpusSource source;      // the data files, split and seed
  std::function<Expected<Corpus>()> corpus;  // tokenized, cached
  // The engine being trained (its sample_step samples the policy); null when only evaluating.
  Engine* engine = nullptr;
  // A fresh engine holding the run's initial weights (REINFORCE's KL reference).
  std::function<Expected<std::unique_ptr<Engine>>()> initialEngine;

  // The objective's own settings ("objective.<key>"), typed as its schema says.
  std::string text(const std::string& key) const;
  std::vector<std::string> list(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool flag(const std::string& key) const;
};

class ObjectiveData {
 public:
  virtual ~ObjectiveData() = default;
  virtual std::string name() const = 0;
  // Its settings, as "objective.<key>" in the executable (the keys here are without the prefix).
  virtual std::vector<SettingSpec> settings() const { return {}; }
  // Its eval_step is a causal LM's loss over tokens [batch, context + 1] (`score` works).
  virtual bool scoresTokens() const { return false; }
  // Files besides the corpus that a run reads (outputs are never written over them).
  virtual std::vector<std::string> inputFiles(const std::map<std::string, std::string>& settings) const {
    (void)settings;
    return {};
  }
  virtual Expected<std::unique_ptr<BatchSource>> batches(const ObjectiveDataInputs& in) const = 0;
};

void registerObjectiveData(std::unique_ptr<ObjectiveData> objective);
const ObjectiveData* findObjectiveData(const std::string& name);
std::vector<std::string> objectiveDataNames();

}  // namespace kiln
