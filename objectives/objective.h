// An objective's compile half: the keys of its [objective] section with their types and
// ranges, its checks against the model and the data, and the functions it builds (loss,
// eval_step, and sample_step when it samples). Its run half (runtime/trainer/objective_data.h)
// makes its batches in the trainer. Each objective lives in objectives/<name>/ with both
// halves; objectives/objectives.def lists them; no code outside its folder names it.
#pragma once

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/module.h"
#include "models/transformer_config.h"
#include "runtime/data/tokenizer.h"
#include "runtime/data/corpus.h"
#include "runtime/data/labeled_data.h"

namespace kiln {

// The TOML types a spec key may have (frontends/spec checks them).
enum class KeyType { Int, Number, Bool, String, StringList, WordTable };

// One key of an objective's [objective] section.
struct ObjectiveKey {
  const char* key;
  KeyType type;
  double min = -INFINITY, max = INFINITY;  // Int, Number
  std::vector<std::string> choices = {};   // String: the allowed values
  // The value when the spec does not set it, in the text form of the trainer's settings
  // ("0.15", "true", a list joined by joinConfigList).
  std::string fallback = {};
  bool path = false;     // a file or folder, relative to the spec's folder
  bool setting = true;   // written into the trainer as objective.<key>
};

// A key's value as the spec set it (checked against its ObjectiveKey).
struct ObjectiveValue {
  std::string text;                    // Int, Number, Bool, String: the settings' text form
  std::vector<std::string> list;       // StringList
  std::map<std::string, std::vector<std::string>> table;  // WordTable
  Location at;
};

// The [objective] section of a spec, typed by the objective's keys; keys the spec does not set
// read as their fallback.
class ObjectiveOptions {
 public:
  ObjectiveOptions() = default;
  ObjectiveOptions(std::vector<ObjectiveKey> keys, Location kindAt) : keys_(std::move(keys)), kindAt_(kindAt) {}
  const std::vector<ObjectiveKey>& keys() const { return keys_; }
  void set(const std::string& key, ObjectiveValue v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // Where the key was set, else where objective.kind was.
  Location at(const std::string& key) const;
  std::string text(const std::string& key) const;
  std::vector<std::string> list(const std::string& key) const;
  const std::map<std::string, std::vector<std::string>>& table(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool flag(const std::string& key) const;

 private:
  const ObjectiveKey& key(const std::string& name) const;
  std::vector<ObjectiveKey> keys_;
  std::map<std::string, ObjectiveValue> values_;
  Location kindAt_;
};

// What an objective sees of a parsed spec.
struct ObjectiveSpec {
  const std::string& modelKind;
  const TransformerConfig& model;
  const ObjectiveOptions& options;
  const std::map<std::string, Location>& locations;  // every key the spec set, "section.key"
  const std::string& path;                           // the spec file
  bool has(const std::string& key) const { return locations.count(key) > 0; }
  Location at(const std::string& key) const {
    auto it = locations.find(key);
    return it == locations.end() ? Location{path, 0, 0} : it->second;
  }
};

// What an objective builds from: the model, the tokenizer and its data.
struct ObjectiveBuild {
  const ObjectiveSpec& spec;
  Module& module;
  TransformerConfig& config;  // the model's, with the spec locations its ops carry
  const Tokenizer& tokenizer;
  const CorpusSource& source;
  const std::vector<LabeledText>& labeled;  // labeled objectives: every text with its label
  // Out: settings beyond its keys' ("classes" -> "a,b"), written as objective.<key>.
  std::map<std::string, std::string> settings;
  // Out: parameter name prefixes that start fresh when the weights come from another model.
  std::vector<std::string> headPrefixes;
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;  // one line, for docs and errors
  // The model kinds (model.kind) it trains.
  virtual std::vector<std::string> models() const = 0;
  virtual std::vector<ObjectiveKey> keys() const { return {}; }
  // Reads labeled texts (data.labels applies) instead of a corpus of documents.
  virtual bool labeled() const { return false; }
  // Checks beyond each key's type and range, with the location of the key at fault.
  virtual Status validate(const ObjectiveSpec& spec) const {
    (void)spec;
    return okStatus();
  }
  // Adds the parameters and builds `loss` and `eval_step` (and `sample_step` when it samples).
  virtual Status build(ObjectiveBuild& b) const = 0;
};

void registerObjective(std::unique_ptr<Objective> objective);
const Objective* findObjective(const std::string& name);
std::vector<std::string> objectiveNames();  // in objectives.def order; the first is the default
// The objectives that have `key` in their section.
std::vector<std::string> objectivesWithKey(const std::string& key);

}  // namespace kiln
