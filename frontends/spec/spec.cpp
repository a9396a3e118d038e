#include "frontends/spec/spec.h"

#include "frontends/spec/hf_bert_folder.h"

#include <toml++/toml.h>

#include <cmath>
#include <functional>
#include <sstream>

#include "ir/attributes.h"
#include "ir/byte_size.h"
#include "ir/parser.h"
#include "ir/suggest.h"
#include "runtime/data/special_tokens.h"
#include "objectives/objective.h"
#include "runtime/trainer/executable.h"

namespace kiln {

Location Spec::locationOf(const std::string& key) const {
  auto it = locations.find(key);
  return it == locations.end() ? Location{path, 0, 0} : it->second;
}

namespace {

// One spec key: its type, allowed range or choices, and where it goes.
struct KeySpec {
  const char* section;
  const char* key;
  KeyType type;
  double min = -INFINITY, max = INFINITY;
  std::vector<std::string> choices = {};
  std::function<void(Spec&, const toml::node&)> apply = {};
};

int64_t asInt(const toml::node& n) { return n.value<int64_t>().value(); }
// An integer is a number too, even one a double cannot hold exactly (toml++'s value<double>()
// refuses those: 222222222222222221 for lr would otherwise throw).
double asNumber(const toml::node& n) { return n.is_integer() ? double(n.value<int64_t>().value()) : n.value<double>().value(); }
std::string asString(const toml::node& n) { return n.value<std::string>().value(); }

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> keys = {
      {"model", "kind", KeyType::String, 0, 0, {"gpt", "bert", "bart"}, [](Spec& s, const toml::node& n) { s.modelKind = asString(n); }},
      {"model", "vocab_size", KeyType::Int, 257, 1 << 20, {}, [](Spec& s, const toml::node& n) { s.model.vocab = asInt(n); }},
      {"model", "context", KeyType::Int, 1, 1 << 16, {}, [](Spec& s, const toml::node& n) { s.model.context = asInt(n); }},
      {"model", "layers", KeyType::Int, 1, 1024, {}, [](Spec& s, const toml::node& n) { s.model.layers = asInt(n); }},
      {"model", "heads", KeyType::Int, 1, 1024, {}, [](Spec& s, const toml::node& n) { s.model.heads = asInt(n); }},
      {"model", "d_model", KeyType::Int, 1, 1 << 16, {}, [](Spec& s, const toml::node& n) { s.model.dModel = asInt(n); }},
      {"model", "d_ff", KeyType::Int, 1, 1 << 18, {}, [](Spec& s, const toml::node& n) { s.model.dFF = asInt(n); }},
      {"model", "activation", KeyType::String, 0, 0, {"gelu", "relu"},
       [](Spec& s, const toml::node& n) { s.model.activation = asString(n); }},
      {"model", "norm", KeyType::String, 0, 0, {"pre", "post"},
       [](Spec& s, const toml::node& n) { s.model.preNorm = asString(n) == "pre"; }},
      {"model", "positions", KeyType::String, 0, 0, {"learned", "sinusoidal"},
       [](Spec& s, const toml::node& n) { s.model.learnedPositions = asString(n) == "learned"; }},
      {"model", "init_std", KeyType::Number, 0, 10, {}, [](Spec& s, const toml::node& n) { s.model.initStd = asNumber(n); }},
      {"model", "layer_norm_eps", KeyType::Number, 0, 1, {},
       [](Spec& s, const toml::node& n) { s.model.layerNormEps = asNumber(n); }},
      {"model", "dtype", KeyType::String, 0, 0, {"f32", "f64"},
       [](Spec& s, const toml::node& n) { s.model.dtype = *parseDType(asString(n)); }},
      {"model", "compute_dtype", KeyType::String, 0, 0, {"f32", "bf16"},
       [](Spec& s, const toml::node& n) { s.computeDtype = *parseDType(asString(n)); }},
      {"objective", "kind", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objective = asString(n); }},
      {"optimizer", "kind", KeyType::String, 0, 0, {"adamw", "sgd"}, [](Spec& s, const toml::node& n) { s.optimizer.kind = asString(n); }},
      {"optimizer", "lr", KeyType::Number, 1e-12, 100, {}, [](Spec& s, const toml::node& n) { s.optimizer.lr = asNumber(n); }},
      {"optimizer", "beta1", KeyType::Number, 0, 0.999999, {}, [](Spec& s, const toml::node& n) { s.optimizer.beta1 = asNumber(n); }},
      {"optimizer", "beta2", KeyType::Number, 0, 0.999999, {}, [](Spec& s, const toml::node& n) { s.optimizer.beta2 = asNumber(n); }},
      {"optimizer", "eps", KeyType::Number, 1e-30, 1, {}, [](Spec& s, const toml::node& n) { s.optimizer.eps = asNumber(n); }},
      {"optimizer", "weight_decay", KeyType::Number, 0, 10, {},
       [](Spec& s, const toml::node& n) { s.optimizer.weightDecay = asNumber(n); }},
      {"optimizer", "momentum", KeyType::Number, 0, 0.999999, {},
       [](Spec& s, const toml::node& n) { s.optimizer.momentum = asNumber(n); }},
      {"optimizer", "nesterov", KeyType::Bool, 0, 0, {}, [](Spec& s, const toml::node& n) { s.optimizer.nesterov = n.value<bool>().value(); }},
      {"optimizer", "clip_norm", KeyType::Number, 0, 1e6, {}, [](Spec& s, const toml::node& n) { s.optimizer.clipNorm = asNumber(n); }},
      {"optimizer", "schedule", KeyType::String, 0, 0, {"constant", "cosine", "linear"},
       [](Spec& s, const toml::node& n) { s.optimizer.schedule = asString(n); }},
      {"optimizer", "warmup", KeyType::Int, 0, 1e9, {}, [](Spec& s, const toml::node& n) { s.optimizer.warmupSteps = asInt(n); }},
      {"optimizer", "min_lr", KeyType::Number, 0, 100, {}, [](Spec& s, const toml::node& n) { s.optimizer.minLr = asNumber(n); }},
      {"optimizer", "no_decay", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.optimizer.noDecay.clear();
         for (const auto& e : *n.as_array()) s.optimizer.noDecay.push_back(asString(e));
       }},
      {"train", "steps", KeyType::Int, 1, 1 << 24, {}, [](Spec& s, const toml::node& n) { s.train.steps = asInt(n); }},
      {"train", "target", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.target = asString(n); }},
      {"train", "batch", KeyType::Int, 1, 1 << 16, {}, [](Spec& s, const toml::node& n) { s.model.batch = asInt(n); }},
      {"train", "seed", KeyType::Int, 0, 9e15, {}, [](Spec& s, const toml::node& n) {
         s.train.seed = asInt(n);
         s.model.seed = asInt(n);
       }},
      {"train", "eval_every", KeyType::Int, 0, 1e9, {}, [](Spec& s, const toml::node& n) { s.train.evalEvery = asInt(n); }},
      {"train", "eval_batches", KeyType::Int, 1, 1e6, {}, [](Spec& s, const toml::node& n) { s.train.evalBatches = asInt(n); }},
      {"train", "checkpoint_every", KeyType::Int, 0, 1e9, {},
       [](Spec& s, const toml::node& n) { s.train.checkpointEvery = asInt(n); }},
      {"train", "log_every", KeyType::Int, 1, 1e9, {}, [](Spec& s, const toml::node& n) { s.train.logEvery = asInt(n); }},
      {"train", "checkpoint", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.train.checkpoint = asString(n); }},
      {"train", "on_divergence", KeyType::String, 0, 0, {"stop", "skip"},
       [](Spec& s, const toml::node& n) { s.train.onDivergence = asString(n); }},
      {"train", "memory_limit", KeyType::String, 0, 0, {},
       [](Spec& s, const toml::node& n) { s.train.memoryLimitText = asString(n); }},
      {"train", "metrics", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.train.metrics = asString(n); }},
      {"train", "shard_optimizer", KeyType::Bool, 0, 0, {},
       [](Spec& s, const toml::node& n) { s.train.shardOptimizer = n.value<bool>().value(); }},
      {"data", "files", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.data.files.clear();
         for (const auto& e : *n.as_array()) s.data.files.push_back(asString(e));
       }},
      {"data", "exclude", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.data.exclude.clear();
         for (const auto& e : *n.as_array()) s.data.exclude.push_back(asString(e));
       }},
      {"data", "separator", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.data.separator = asString(n); }},
      {"data", "val_fraction", KeyType::Number, 0, 0.9, {}, [](Spec& s, const toml::node& n) { s.data.valFraction = asNumber(n); }},
      {"data", "tokenizer", KeyType::String, 0, 0, {},
       [](Spec& s, const toml::node& n) { s.data.tokenizer = asString(n); }},
      {"data", "labels", KeyType::String, 0, 0, {"file_name", "jsonl"}, [](Spec& s, const toml::node& n) { s.data.labels = asString(n); }},
  };
  return keys;
}

const char* typeName(KeyType t) {
  switch (t) {
    case KeyType::Int: return "an integer";
    case KeyType::Number: return "a number";
    case KeyType::Bool: return "true or false";
    case KeyType::String: return "a string";
    case KeyType::StringList: return "an array of strings";
    case KeyType::WordTable: return "a table of label = [\"word\", ...] (non-empty arrays of strings)";
  }
  return "?";
}

struct SpecError {
  Diagnostic diag;
};

class SpecReader {
 public:
  explicit SpecReader(std::string path) : path_(std::move(path)) {}

  Spec read(const toml::table& root) {
    Spec spec;
    spec.path = path_;
    spec.objective = objectiveNames().at(0);
    const toml::table* objectiveTable = nullptr;
    spec.model.dFF = 0;  // 0 until set: 4 * d_model
    std::vector<std::string> sections;
    for (const auto& k : schema())
      if (std::find(sections.begin(), sections.end(), k.section) == sections.end()) sections.push_back(k.section);
    for (const auto& [sectionKey, node] : root) {
      std::string section(sectionKey.str());
      if (std::find(sections.begin(), sections.end(), section) == sections.end())
        failKey(sectionKey, "unknown section [" + section + "]" + hint(section, sections) + "; sections are [model], [objective], [optimizer], [train], [data]");
      const toml::table* table = node.as_table();
      if (!table) fail(node, "'" + section + "' must be a section ([" + section + "])");
      if (section == "objective") {  // its keys depend on its kind: read after the others
        objectiveTable = table;
        continue;
      }
      for (const auto& [key, value] : *table) readKey(spec, section, key, value);
    }
    readObjective(spec, objectiveTable);
    validate(spec);
    return spec;
  }

 private:
  Location loc(const toml::node& n) const {
    const auto& src = n.source();
    return Location{path_, int(src.begin.line), int(src.begin.column)};
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) const { throw SpecError{makeError(loc(n), msg)}; }
  [[noreturn]] void failKey(const toml::key& k, const std::string& msg) const {
    const auto& src = k.source();
    throw SpecError{makeError(Location{path_, int(src.begin.line), int(src.begin.column)}, msg)};
  }
  [[noreturn]] void failAt(const Spec& s, const std::string& key, const std::string& msg) const {
    throw SpecError{makeError(s.locationOf(key), msg)};
  }
  // Integers as integers, other numbers in their shortest exact form.
  static std::string number(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
    std::string s = formatDouble(v);
    return s;
  }
  static std::string hint(const std::string& word, const std::vector<std::string>& names) {
    std::string n = nearestName(word, names);
    return n.empty() ? "" : " (did you mean '" + n + "'?)";
  }

  // The value's type, range and choice, for `full` ("section.key").
  void checkValue(const std::string& full, KeyType type, double min, double max, const std::vector<std::string>& choices,
                  const toml::node& value) const {
    bool typeOk = false;
    switch (type) {
      case KeyType::Int: typeOk = value.is_integer(); break;
      case KeyType::Number: typeOk = value.is_number(); break;
      case KeyType::Bool: typeOk = value.is_boolean(); break;
      case KeyType::String: typeOk = value.is_string(); break;
      case KeyType::StringList:
        typeOk = value.is_array() && (value.as_array()->empty() || value.as_array()->is_homogeneous(toml::node_type::string));
        break;
      case KeyType::WordTable:
        typeOk = value.is_table();
        if (typeOk)
          for (const auto& [label, words] : *value.as_table())
            typeOk = typeOk && words.is_array() && !words.as_array()->empty() &&
                     words.as_array()->is_homogeneous(toml::node_type::string);
        break;
    }
    if (!typeOk) fail(value, full + " must be " + typeName(type));
    if (type == KeyType::Int || type == KeyType::Number) {
      double v = type == KeyType::Int ? double(asInt(value)) : asNumber(value);
      if (!(v >= min && v <= max))
        fail(value, full + " must be between " + number(min) + " and " + number(max) + ", got " + number(v));
    }
    if (!choices.empty()) {
      std::string v = asString(value);
      if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
        std::string list;
        for (const auto& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
        fail(value, full + " must be one of " + list + ", got \"" + v + "\"" + hint(v, choices));
      }
    }
  }

  // "\"a\"", "\"a\" or \"b\"", "\"a\", \"b\" or \"c\"".
  static std::string quotedAlternatives(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
      out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + ("\"" + names[i] + "\"");
    return out;
  }

  // [objective]: kind first (the default when absent), then the keys that objective has.
  void readObjective(Spec& spec, const toml::table* table) {
    if (table)
      for (const auto& [key, value] : *table)
        if (key.str() == "kind") readKey(spec, "objective", key, value);
    const Objective* objective = findObjective(spec.objective);
    if (!objective) {
      std::string list;
      for (const auto& name : objectiveNames()) list += (list.empty() ? "\"" : ", \"") + name + "\"";
      failAt(spec, "objective.kind", "objective.kind must be one of " + list + ", got \"" + spec.objective + "\"" +
                                         hint(spec.objective, objectiveNames()));
    }
    const std::vector<ObjectiveKey> keys = objective->keys();
    spec.objectiveOptions = ObjectiveOptions(keys, spec.locationOf("objective.kind"));
    if (!table) return;
    // In the file's order, so the first key at fault is the one reported.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [k, v] : *table) entries.emplace_back(&k, &v);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto &x = a.first->source().begin, &y = b.first->source().begin;
      return std::pair(x.line, x.column) < std::pair(y.line, y.column);
    });
    for (const auto& [keyPtr, valuePtr] : entries) {
      const toml::key& tomlKey = *keyPtr;
      const toml::node& value = *valuePtr;
      const std::string key(tomlKey.str()), full = "objective." + key;
      if (key == "kind") continue;
      auto k = std::find_if(keys.begin(), keys.end(), [&](const ObjectiveKey& x) { return key == x.key; });
      if (k == keys.end()) {
        std::vector<std::string> owners = objectivesWithKey(key);
        if (!owners.empty()) fail(value, full + " applies to objective.kind " + quotedAlternatives(owners) + " only");
        std::vector<std::string> known = {"kind"};
        for (const auto& name : objectiveNames())
          for (const ObjectiveKey& x : findObjective(name)->keys()) known.push_back(x.key);
        failKey(tomlKey, "unknown key '" + key + "' in [objective]" + hint(key, known));
      }
      checkValue(full, k->type, k->min, k->max, k->choices, value);
      ObjectiveValue v;
      v.at = loc(value);
      switch (k->type) {
        case KeyType::Int: v.text = std::to_string(asInt(value)); break;
        case KeyType::Number: v.text = formatDouble(asNumber(value)); break;
        case KeyType::Bool: v.text = value.value<bool>().value() ? "true" : "false"; break;
        case KeyType::String: v.text = asString(value); break;
        case KeyType::StringList:
          for (const auto& e : *value.as_array()) v.list.push_back(asString(e));
          v.text = joinConfigList(v.list);
          break;
        case KeyType::WordTable:
          for (const auto& [label, words] : *value.as_table())
            for (const auto& w : *words.as_array()) v.table[std::string(label.str())].push_back(asString(w));
          break;
      }
      spec.locations[full] = v.at;
      spec.objectiveOptions.set(key, std::move(v));
    }
  }

  void readKey(Spec& spec, const std::string& section, const toml::key& tomlKey, const toml::node& value) {
    std::string key(tomlKey.str());
    const KeySpec* ks = nullptr;
    std::vector<std::string> known;
    for (const auto& k : schema())
      if (section == k.section) {
        known.push_back(k.key);
        if (key == k.key) ks = &k;
      }
    if (!ks) {
      const auto& src = tomlKey.source();
      throw SpecError{makeError(Location{path_, int(src.begin.line), int(src.begin.column)},
                                "unknown key '" + key + "' in [" + section + "]" + hint(key, known))};
    }
    std::string full = section + "." + key;
    checkValue(full, ks->type, ks->min, ks->max, ks->choices, value);
    spec.locations[full] = loc(value);
    ks->apply(spec, value);
  }

  // The largest tensors the model builds must fit the IR's element limit; each product is
  // blamed on the key that makes it large (batch, context, vocabulary, widths).
  void checkTensorSizes(const Spec& s) const {
    const TransformerConfig& m = s.model;
    struct Product {
      const char* what;
      std::vector<int64_t> factors;
      const char* key;
    };
    const std::vector<Product> products = {
        {"the logits (batch x context x vocab_size)", {m.batch, m.context + 1, m.vocab}, "model.vocab_size"},
        {"the attention scores (batch x heads x context x context)", {m.batch, m.heads, m.context + 1, m.context + 1}, "model.context"},
        {"the feed-forward activations (batch x context x d_ff)", {m.batch, m.context + 1, m.dFF}, "model.d_ff"},
        {"the embedding table (vocab_size x d_model)", {m.vocab, m.dModel}, "model.d_model"},
        {"a feed-forward weight (d_model x d_ff)", {m.dModel, m.dFF}, "model.d_ff"},
    };
    for (const Product& p : products) {
      double n = 1;
      for (int64_t f : p.factors) n *= double(f);
      if (n > double(kMaxElements)) {
        const char* key = s.locations.count(p.key) ? p.key : s.locations.count("train.batch") ? "train.batch" : "model.kind";
        failAt(s, key, std::string(p.what) + " would have " + number(n) + " elements, more than the " + number(double(kMaxElements)) +
                           " a tensor may have; reduce train.batch, model.context, model.vocab_size or the widths");
      }
    }
  }

  void validate(Spec& s) const {
    if (auto st = adoptHfBertFolder(s, s.adopted); !st) throw SpecError{st.error()};
    TransformerConfig& m = s.model;
    if (m.dFF == 0) m.dFF = 4 * m.dModel;
    if (m.dModel % m.heads != 0)
      failAt(s, s.locations.count("model.heads") ? "model.heads" : "model.d_model",
             "model.heads (" + std::to_string(m.heads) + ") must divide model.d_model (" + std::to_string(m.dModel) + ")");
    if (s.locations.count("train.memory_limit")) {
      auto bytes = parseByteSize(s.train.memoryLimitText);
      if (!bytes) failAt(s, "train.memory_limit", "train.memory_limit: " + bytes.error().message);
      s.train.memoryLimit = *bytes;
    }
    // Each rank keeps 1/N of the AdamW moments: the fused update's, in place (no skip gate).
    if (s.train.shardOptimizer && (s.optimizer.kind != "adamw" || !s.optimizer.fused || s.train.onDivergence != "stop"))
      failAt(s, "train.shard_optimizer",
             "train.shard_optimizer shards the AdamW moments: it needs optimizer.kind = \"adamw\" (fused) and train.on_divergence = "
             "\"stop\" (got optimizer.kind = \"" + s.optimizer.kind + "\", train.on_divergence = \"" + s.train.onDivergence + "\")");
    if (s.data.files.empty()) failAt(s, "data.files", "[data] files must list at least one file or glob");
    if (s.optimizer.schedule != "constant") {
      s.optimizer.totalSteps = s.train.steps;
      if (s.optimizer.warmupSteps >= s.train.steps)
        failAt(s, "optimizer.warmup", "optimizer.warmup (" + std::to_string(s.optimizer.warmupSteps) +
                                          ") must be smaller than train.steps (" + std::to_string(s.train.steps) + ")");
    }
    if (s.optimizer.nesterov && s.optimizer.momentum == 0)
      failAt(s, "optimizer.nesterov", "optimizer.nesterov needs optimizer.momentum > 0");
    if (s.optimizer.minLr > s.optimizer.lr) failAt(s, "optimizer.min_lr", "optimizer.min_lr must not exceed optimizer.lr");
    if (s.data.tokenizer == "byte" && m.vocab < 256)
      failAt(s, "model.vocab_size", "a byte tokenizer needs model.vocab_size >= 256");
    const bool encoder = s.modelKind == "bert", encDec = s.modelKind == "bart";
    const Objective* objective = findObjective(s.objective);
    const std::vector<std::string> models = objective->models();
    if (std::find(models.begin(), models.end(), s.modelKind) == models.end())
      failAt(s, "objective.kind", "objective.kind \"" + s.objective + "\" (" + objective->summary() + ") trains model.kind " +
                                      quotedAlternatives(models) + ", got model.kind \"" + s.modelKind + "\"");
    if (!objective->labeled() && s.locations.count("data.labels")) {
      std::vector<std::string> labeled;
      for (const auto& name : objectiveNames())
        if (findObjective(name)->labeled()) labeled.push_back(name);
      failAt(s, "data.labels", "data.labels applies to objective.kind " + quotedAlternatives(labeled) + " only");
    }
    if (encDec && m.vocab < 256 + 2 + 16 + 1)
      failAt(s, "model.vocab_size", "model.vocab_size must leave room for 256 bytes, <|endoftext|> and 18 denoising specials (>= 275)");
    if (auto st = objective->validate(ObjectiveSpec{s.modelKind, s.model, s.objectiveOptions, s.locations, s.path}); !st)
      throw SpecError{st.error()};
    if (encoder && s.data.tokenizer == "byte" && m.vocab < 256 + kEncoderSpecialCount)
      failAt(s, "model.vocab_size", "a byte tokenizer with BERT's 4 special tokens needs model.vocab_size >= 260");
    if (encoder && s.locations.count("model.norm") && m.preNorm)
      failAt(s, "model.norm", "model.norm is \"post\" for bert (post-LN, as BERT)");
    if (encoder && s.locations.count("model.positions") && !m.learnedPositions)
      failAt(s, "model.positions", "model.positions is \"learned\" for bert");
    if (encDec && s.locations.count("model.norm") && m.preNorm)
      failAt(s, "model.norm", "model.norm is \"post\" for bart (post-LN, as BART)");
    if (encDec && s.locations.count("model.positions") && !m.learnedPositions)
      failAt(s, "model.positions", "model.positions is \"learned\" for bart");
    checkTensorSizes(s);
    if (s.data.separator.find('\n') != std::string::npos)
      failAt(s, "data.separator", "data.separator must be a single line");
  }

  std::string path_;
};

}  // namespace

Expected<Spec> parseSpec(const std::string& text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return makeError(Location{path, int(src.begin.line), int(src.begin.column)}, std::string(e.description()));
  }
  try {
    return SpecReader(path).read(root);
  } catch (const SpecError& e) {
    return e.diag;
  }
}

Expected<Spec> loadSpec(const std::string& path) {
  auto text = readFile(path);
  if (!text) return text.error();
  return parseSpec(*text, path);
}

std::vector<std::string> specKeys() {
  std::vector<std::string> out;
  for (const auto& k : schema()) {
    out.push_back(std::string(k.section) + "." + k.key);
    if (out.back() == "objective.kind")  // then every objective's own keys
      for (const auto& name : objectiveNames())
        for (const ObjectiveKey& o : findObjective(name)->keys())
          if (std::find(out.begin(), out.end(), std::string("objective.") + o.key) == out.end()) out.push_back(std::string("objective.") + o.key);
  }
  return out;
}

}  // namespace kiln
