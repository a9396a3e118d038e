#include "frontends/spec/spec.h"

#include <toml++/toml.h>

#include <cmath>
#include <functional>
#include <sstream>

#include "ir/attributes.h"
#include "ir/parser.h"
#include "ir/suggest.h"
#include "models/bert.h"

namespace kiln {

Location Spec::locationOf(const std::string& key) const {
  auto it = locations.find(key);
  return it == locations.end() ? Location{path, 0, 0} : it->second;
}

namespace {

enum class KeyType { Int, Number, Bool, String, StringList, WordTable };

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
      {"objective", "kind", KeyType::String, 0, 0, {"causal_lm", "mlm", "classify", "cloze", "reinforce", "seq2seq"}, [](Spec& s, const toml::node& n) { s.objective = asString(n); }},
      {"objective", "init_from", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.initFrom = asString(n); }},
      {"objective", "template", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.clozeTemplate = asString(n); }},
      {"objective", "verbalizer", KeyType::WordTable, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.objectiveConfig.verbalizer.clear();
         for (const auto& [label, words] : *n.as_table())
           for (const auto& w : *words.as_array()) s.objectiveConfig.verbalizer[std::string(label.str())].push_back(asString(w));
       }},
      {"objective", "shots", KeyType::Int, 0, 1e6, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.shots = asInt(n); }},
      {"objective", "prompts", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.objectiveConfig.prompts.clear();
         for (const auto& e : *n.as_array()) s.objectiveConfig.prompts.push_back(asString(e));
       }},
      {"objective", "max_length", KeyType::Int, 1, 1 << 16, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.maxLength = asInt(n); }},
      {"objective", "temperature", KeyType::Number, 0.01, 100, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.temperature = asNumber(n); }},
      {"objective", "gamma", KeyType::Number, 0, 1, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.gamma = asNumber(n); }},
      {"objective", "baseline_decay", KeyType::Number, 0, 0.9999, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.baselineDecay = asNumber(n); }},
      {"objective", "reward", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.objectiveConfig.reward.clear();
         for (const auto& e : *n.as_array()) s.objectiveConfig.reward.push_back(asString(e));
       }},
      {"objective", "keywords", KeyType::StringList, 0, 0, {}, [](Spec& s, const toml::node& n) {
         s.objectiveConfig.keywords.clear();
         for (const auto& e : *n.as_array()) s.objectiveConfig.keywords.push_back(asString(e));
       }},
      {"objective", "reward_model", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.rewardModel = asString(n); }},
      {"objective", "reward_checkpoint", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.rewardCheckpoint = asString(n); }},
      {"objective", "reward_label", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.rewardLabel = asString(n); }},
      {"objective", "kl_coef", KeyType::Number, 0, 100, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.klCoef = asNumber(n); }},
      {"objective", "target_length", KeyType::Int, 1, 1 << 16, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.targetLength = asInt(n); }},
      {"objective", "noise", KeyType::String, 0, 0, {"t5", "bart"}, [](Spec& s, const toml::node& n) { s.objectiveConfig.noise = asString(n); }},
      {"objective", "noise_density", KeyType::Number, 0.01, 0.9, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.noiseDensity = asNumber(n); }},
      {"objective", "mean_span", KeyType::Number, 1, 64, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.meanSpan = asNumber(n); }},
      {"objective", "freeze", KeyType::Bool, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.freeze = n.value<bool>().value(); }},
      {"objective", "nsp", KeyType::Bool, 0, 0, {}, [](Spec& s, const toml::node& n) { s.objectiveConfig.nsp = n.value<bool>().value(); }},
      {"objective", "mask_prob", KeyType::Number, 0.01, 0.9, {},
       [](Spec& s, const toml::node& n) { s.objectiveConfig.maskProb = asNumber(n); }},
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
      {"train", "metrics", KeyType::String, 0, 0, {}, [](Spec& s, const toml::node& n) { s.train.metrics = asString(n); }},
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
      for (const auto& [key, value] : *table) readKey(spec, section, key, value);
    }
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
    bool typeOk = false;
    switch (ks->type) {
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
    if (!typeOk) fail(value, full + " must be " + typeName(ks->type));
    if (ks->type == KeyType::Int || ks->type == KeyType::Number) {
      double v = ks->type == KeyType::Int ? double(asInt(value)) : asNumber(value);
      if (!(v >= ks->min && v <= ks->max))
        fail(value, full + " must be between " + number(ks->min) + " and " + number(ks->max) + ", got " + number(v));
    }
    if (!ks->choices.empty()) {
      std::string v = asString(value);
      if (std::find(ks->choices.begin(), ks->choices.end(), v) == ks->choices.end()) {
        std::string list;
        for (const auto& c : ks->choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
        fail(value, full + " must be one of " + list + ", got \"" + v + "\"" + hint(v, ks->choices));
      }
    }
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
    TransformerConfig& m = s.model;
    if (m.dFF == 0) m.dFF = 4 * m.dModel;
    if (m.dModel % m.heads != 0)
      failAt(s, s.locations.count("model.heads") ? "model.heads" : "model.d_model",
             "model.heads (" + std::to_string(m.heads) + ") must divide model.d_model (" + std::to_string(m.dModel) + ")");
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
    bool encoder = s.modelKind == "bert";
    if (s.objective == "causal_lm" && encoder)
      failAt(s, "objective.kind", "objective.kind \"causal_lm\" needs a decoder (model.kind = \"gpt\"), got model.kind \"bert\"");
    if (s.objective == "mlm" && !encoder)
      failAt(s, "objective.kind", "objective.kind \"mlm\" needs an encoder (model.kind = \"bert\"), got model.kind \"" + s.modelKind + "\"");
    for (const char* k : {"objective.nsp", "objective.mask_prob"})
      if (s.objective != "mlm" && s.locations.count(k))
        failAt(s, k, std::string(k) + " applies to objective.kind \"mlm\" only");
    const bool labeled = s.objective == "classify" || s.objective == "cloze";
    if (s.objective != "classify" && s.objective != "cloze" && s.objective != "reinforce" && s.locations.count("objective.init_from"))
      failAt(s, "objective.init_from", "objective.init_from applies to objective.kind \"classify\", \"cloze\" or \"reinforce\" only");
    if (!labeled && s.locations.count("data.labels"))
      failAt(s, "data.labels", "data.labels applies to objective.kind \"classify\" or \"cloze\" only");
    for (const char* k : {"objective.prompts", "objective.max_length", "objective.temperature", "objective.gamma",
                          "objective.baseline_decay", "objective.reward", "objective.keywords", "objective.target_length",
                          "objective.reward_model", "objective.reward_checkpoint", "objective.reward_label", "objective.kl_coef"})
      if (s.objective != "reinforce" && s.locations.count(k))
        failAt(s, k, std::string(k) + " applies to objective.kind \"reinforce\" only");
    const bool encDec = s.modelKind == "bart";
    if ((s.objective == "seq2seq") != encDec)
      failAt(s, "objective.kind", encDec ? "model.kind \"bart\" (encoder-decoder) trains with objective.kind \"seq2seq\""
                                         : "objective.kind \"seq2seq\" needs an encoder-decoder (model.kind = \"bart\")");
    for (const char* k : {"objective.noise", "objective.noise_density", "objective.mean_span"})
      if (s.objective != "seq2seq" && s.locations.count(k))
        failAt(s, k, std::string(k) + " applies to objective.kind \"seq2seq\" only");
    if (encDec && m.vocab < 256 + 2 + 16 + 1)
      failAt(s, "model.vocab_size", "model.vocab_size must leave room for 256 bytes, <|endoftext|> and 18 denoising specials (>= 275)");
    if (s.objective == "reinforce") {
      if (encoder) failAt(s, "objective.kind", "objective.kind \"reinforce\" needs a causal LM policy (model.kind = \"gpt\")");
      const auto& oc = s.objectiveConfig;
      if (oc.reward.empty()) failAt(s, "objective.reward", "objective.reward needs at least one of \"keywords\", \"length\", \"repetition\"");
      for (const auto& r : oc.reward)
        if (r != "keywords" && r != "length" && r != "repetition" && r != "classifier")
          failAt(s, "objective.reward", "objective.reward entries must be \"keywords\", \"length\", \"repetition\" or \"classifier\", got \"" + r + "\"");
      if (std::find(oc.reward.begin(), oc.reward.end(), "classifier") != oc.reward.end())
        for (const char* k : {"objective.reward_model", "objective.reward_checkpoint", "objective.reward_label"})
          if (!s.locations.count(k))
            failAt(s, "objective.reward", std::string("the \"classifier\" reward needs ") + k +
                                              " (a compiled classify trainer, its checkpoint, and the label to reward)");
      if (std::find(oc.reward.begin(), oc.reward.end(), "keywords") != oc.reward.end() && oc.keywords.empty())
        failAt(s, "objective.reward", "the \"keywords\" reward needs objective.keywords");
      if (oc.prompts.empty()) failAt(s, "objective.prompts", "objective.prompts needs at least one prompt (\"\" starts from nothing)");
      if (oc.maxLength >= m.context)
        failAt(s, "objective.max_length", "objective.max_length (" + std::to_string(oc.maxLength) + ") must be smaller than model.context (" +
                                              std::to_string(m.context) + ") to leave room for the prompt");
    }
    if (s.objective != "classify" && s.locations.count("objective.freeze"))
      failAt(s, "objective.freeze", "objective.freeze applies to objective.kind \"classify\" only");
    for (const char* k : {"objective.template", "objective.verbalizer", "objective.shots"})
      if (s.objective != "cloze" && s.locations.count(k))
        failAt(s, k, std::string(k) + " applies to objective.kind \"cloze\" only");
    if (s.objective == "cloze") {
      const std::string& t = s.objectiveConfig.clozeTemplate;
      size_t text = t.find("{text}"), slot = t.find("[MASK]");
      if (text == std::string::npos || slot == std::string::npos || t.find("{text}", text + 1) != std::string::npos ||
          t.find("[MASK]", slot + 1) != std::string::npos || t.find('\n') != std::string::npos)
        failAt(s, "objective.template", "objective.template needs exactly one {text} and one [MASK] on one line");
      if (!encoder && (slot < text || slot == 0))
        failAt(s, "objective.template", "a causal LM (model.kind = \"gpt\") reads the slot as the next token: "
                                        "objective.template needs {text} before [MASK]");
      if (s.objectiveConfig.verbalizer.size() < 2)
        failAt(s, s.locations.count("objective.verbalizer") ? "objective.verbalizer" : "objective.kind",
               "objective \"cloze\" needs objective.verbalizer with at least two labels, e.g. { computers = [\" computer\"], food = [\" food\"] }");
    }
    if (s.objectiveConfig.freeze && s.objectiveConfig.initFrom.empty())
      failAt(s, "objective.freeze", "objective.freeze needs objective.init_from (a frozen random body learns nothing)");
    if (s.objective == "classify" && encoder && m.context < 3)
      failAt(s, "model.context", "classify with bert needs model.context >= 3 ([CLS] text [SEP])");
    if (s.objective == "mlm" && m.context < (s.objectiveConfig.nsp ? 5 : 3))
      failAt(s, "model.context", "objective \"mlm\" needs model.context >= " + std::string(s.objectiveConfig.nsp ? "5" : "3") +
                                     " ([CLS] A [SEP]" + (s.objectiveConfig.nsp ? " B [SEP]" : "") + ")");
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
  for (const auto& k : schema()) out.push_back(std::string(k.section) + "." + k.key);
  return out;
}

}  // namespace kiln
