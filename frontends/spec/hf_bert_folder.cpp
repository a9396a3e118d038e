#include "frontends/spec/hf_bert_folder.h"

#include <cmath>
#include <filesystem>

#include "ir/attributes.h"
#include "ir/read_file.h"
#include "runtime/checkpoint/json.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

// 768 as "768", 1e-12 as "1e-12".
std::string numberText(double v) { return v == std::floor(v) && std::fabs(v) < 1e15 ? std::to_string(int64_t(v)) : formatDouble(v); }

}  // namespace

std::string hfInitFolder(const Spec& s) {
  if (!s.objectiveOptions.has("init_from")) return "";  // not set, or not this objective's key
  const std::string init = s.objectiveOptions.text("init_from");
  if (init.empty()) return "";
  const fs::path p = fs::path(s.path).parent_path() / init;
  std::error_code ec;
  return fs::is_directory(p, ec) ? p.lexically_normal().string() : "";
}

Status adoptHfBertFolder(Spec& s, std::vector<std::string>& adopted) {
  const std::string dir = hfInitFolder(s);
  if (dir.empty()) return okStatus();
  const Location initAt = s.locationOf("objective.init_from");
  if (s.modelKind != "bert")
    return makeError(initAt, "objective.init_from names a folder (" + dir + "): a Hugging Face BERT folder, which needs model.kind = \"bert\"");
  const std::string configPath = dir + "/config.json";
  auto text = readFile(configPath);
  if (!text) return text.error();
  auto doc = json::parse(*text, configPath);
  if (!doc) return doc.error();
  if (!doc->isObject()) return makeError(Location{configPath, 0, 0}, "not a JSON object");
  const json::Object& o = doc->object();
  auto str = [&](const char* k) { return o.count(k) && o.at(k).isString() ? o.at(k).string() : std::string(); };
  if (str("model_type") != "bert")
    return makeError(Location{configPath, 0, 0}, "model_type is \"" + str("model_type") + "\"; kiln starts from a Hugging Face BERT (\"bert\")");
  auto number = [&](const char* k) -> Expected<double> {
    if (!o.count(k) || !o.at(k).isNumber()) return makeError(Location{configPath, 0, 0}, std::string("lacks the number \"") + k + "\"");
    return o.at(k).number();
  };
  // Each size: taken from the folder when the spec does not set it, else they must agree.
  struct Field {
    const char* hf;
    const char* key;
    double* real = nullptr;
    int64_t* whole = nullptr;
  };
  TransformerConfig& m = s.model;
  double eps = m.layerNormEps;
  const std::vector<Field> fields = {
      {"hidden_size", "model.d_model", nullptr, &m.dModel},           {"num_attention_heads", "model.heads", nullptr, &m.heads},
      {"num_hidden_layers", "model.layers", nullptr, &m.layers},      {"intermediate_size", "model.d_ff", nullptr, &m.dFF},
      {"vocab_size", "model.vocab_size", nullptr, &m.vocab},          {"layer_norm_eps", "model.layer_norm_eps", &eps, nullptr},
  };
  for (const Field& f : fields) {
    auto v = number(f.hf);
    if (!v) return v.error();
    const bool set = s.locations.count(f.key) > 0;
    const double mine = f.real ? *f.real : double(*f.whole);
    if (set && std::fabs(mine - *v) > 1e-12 * std::max(1.0, std::fabs(*v)))
      return makeError(s.locationOf(f.key), std::string(f.key) + " = " + numberText(mine) + " disagrees with " + f.hf + " = " +
                                                numberText(*v) + " in " + configPath + " (leave it out to take the folder's)");
    if (!set) {
      if (f.real) *f.real = *v;
      else *f.whole = int64_t(*v);
      adopted.push_back(std::string(f.key) + " = " + numberText(*v));
    }
  }
  m.layerNormEps = eps;
  // Positions: kiln's context may be shorter than the folder's table (the first rows are used).
  auto positions = number("max_position_embeddings");
  if (!positions) return positions.error();
  if (!s.locations.count("model.context")) {
    m.context = int64_t(*positions);
    adopted.push_back("model.context = " + numberText(*positions));
  } else if (double(m.context) > *positions) {
    return makeError(s.locationOf("model.context"), "model.context = " + std::to_string(m.context) + " exceeds max_position_embeddings = " +
                                                        numberText(*positions) + " in " + configPath);
  }
  if (o.count("type_vocab_size") && (!o.at("type_vocab_size").isNumber() || o.at("type_vocab_size").number() != 2))
    return makeError(Location{configPath, 0, 0}, "type_vocab_size must be 2 (kiln's BERT has two segments)");
  if (!str("position_embedding_type").empty() && str("position_embedding_type") != "absolute")
    return makeError(Location{configPath, 0, 0}, "position_embedding_type \"" + str("position_embedding_type") + "\": kiln's BERT has absolute positions");
  // BERT's "gelu" is the erf form, kiln's BERT GELU; "relu" maps to model.activation.
  const std::string act = str("hidden_act").empty() ? "gelu" : str("hidden_act");
  if (act != "gelu" && act != "relu")
    return makeError(Location{configPath, 0, 0}, "hidden_act \"" + act + "\": kiln's BERT has \"gelu\" (erf) or \"relu\"");
  if (s.locations.count("model.activation") && m.activation != act)
    return makeError(s.locationOf("model.activation"), "model.activation = \"" + m.activation + "\" disagrees with hidden_act = \"" + act +
                                                           "\" in " + configPath);
  if (!s.locations.count("model.activation") && m.activation != act) adopted.push_back("model.activation = \"" + act + "\"");
  m.activation = act;
  // The folder's WordPiece vocabulary, unless the spec names the same folder.
  std::error_code ec;
  if (!fs::exists(dir + "/vocab.txt", ec)) return makeError(Location{dir + "/vocab.txt", 0, 0}, "missing: the folder's WordPiece vocabulary");
  if (s.locations.count("data.tokenizer")) {
    const fs::path named = fs::path(s.path).parent_path() / s.data.tokenizer;
    if (!fs::equivalent(named, dir, ec))
      return makeError(s.locationOf("data.tokenizer"), "data.tokenizer = \"" + s.data.tokenizer +
                                                           "\": a model from a Hugging Face folder reads that folder's vocab.txt (" + dir +
                                                           "); leave data.tokenizer out");
  } else {
    s.data.tokenizer = s.objectiveOptions.text("init_from");
    adopted.push_back("data.tokenizer = \"" + s.data.tokenizer + "\" (WordPiece)");
  }
  return okStatus();
}

}  // namespace kiln
