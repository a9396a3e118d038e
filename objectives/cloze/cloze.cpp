// cloze's compile half: prompt-based classification with the language model's own head; each
// label scores its verbalizer words at the template's slot (models/cloze.h).
#include <algorithm>

#include "models/bert.h"
#include "models/cloze.h"
#include "objectives/objective.h"
#include "runtime/trainer/executable.h"

namespace kiln {

namespace {

class Cloze : public Objective {
 public:
  std::string name() const override { return "cloze"; }
  std::string summary() const override { return "prompt (cloze) learning with a verbalizer"; }
  std::vector<std::string> models() const override { return {"gpt", "bert"}; }
  std::vector<ObjectiveKey> keys() const override {
    return {{"init_from", KeyType::String, 0, 0, {}, "", /*path=*/true},
            {"template", KeyType::String, 0, 0, {}, "{text} This is about [MASK]."},
            {"verbalizer", KeyType::WordTable, 0, 0, {}, "", false, /*setting=*/false},
            {"shots", KeyType::Int, 0, 1e6, {}, "0"}};
  }
  bool labeled() const override { return true; }
  Status validate(const ObjectiveSpec& s) const override {
    const std::string t = s.options.text("template");
    size_t text = t.find("{text}"), slot = t.find("[MASK]");
    if (text == std::string::npos || slot == std::string::npos || t.find("{text}", text + 1) != std::string::npos ||
        t.find("[MASK]", slot + 1) != std::string::npos || t.find('\n') != std::string::npos)
      return makeError(s.at("objective.template"), "objective.template needs exactly one {text} and one [MASK] on one line");
    if (s.modelKind != "bert" && (slot < text || slot == 0))
      return makeError(s.at("objective.template"), "a causal LM (model.kind = \"gpt\") reads the slot as the next token: "
                                                   "objective.template needs {text} before [MASK]");
    if (s.options.table("verbalizer").size() < 2)
      return makeError(s.at(s.has("objective.verbalizer") ? "objective.verbalizer" : "objective.kind"),
                       "objective \"cloze\" needs objective.verbalizer with at least two labels, e.g. { computers = [\" computer\"], food = [\" food\"] }");
    return okStatus();
  }
  Status build(ObjectiveBuild& b) const override {
    const Location where = b.spec.at("objective.verbalizer");
    // The classes are the verbalizer's labels; each word contributes its first token.
    std::vector<std::string> classes;
    std::vector<std::vector<int32_t>> words;
    for (const auto& entry : b.spec.options.table("verbalizer")) {
      const std::string& label = entry.first;
      const std::vector<std::string>& ws = entry.second;
      if (std::none_of(b.labeled.begin(), b.labeled.end(), [&](const LabeledText& t) { return t.label == label; }))
        return makeError(where, "verbalizer label '" + label + "' has no examples in the data");
      classes.push_back(label);
      auto& ids = words.emplace_back();
      for (const auto& w : ws) {
        auto t = b.tokenizer.encode(w);
        if (t.empty()) return makeError(where, "verbalizer word '" + w + "' encodes to no token");
        ids.push_back(t[0]);
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    // Labels whose words start with the same tokens would always score alike.
    for (size_t x = 0; x < words.size(); ++x)
      for (size_t y = x + 1; y < words.size(); ++y)
        if (words[x] == words[y]) {
          std::string shown;
          for (int32_t id : words[x]) shown += (shown.empty() ? "'" : "', '") + b.tokenizer.decode({id});
          return makeError(where, "verbalizer labels '" + classes[x] + "' and '" + classes[y] + "' both read token(s) " + shown +
                                      "' (a word's first token); they could never be told apart: choose words that start differently "
                                      "(or a larger vocab_size)");
        }
    b.settings["classes"] = joinConfigList(classes);
    b.config.sources["objective"] = b.spec.at("objective.kind");
    if (b.spec.modelKind == "bert") addBertParameters(b.module, b.config, BertHeads{.mlm = true, .pooler = false, .nsp = false});
    else addGptParameters(b.module, b.config);
    buildCloze(b.module, b.config, b.spec.modelKind, words, "loss", "");
    buildCloze(b.module, b.config, b.spec.modelKind, words, "eval_step", "val_");
    return okStatus();
  }
};

}  // namespace

void registerClozeObjective() { registerObjective(std::make_unique<Cloze>()); }

}  // namespace kiln
