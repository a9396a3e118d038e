// GPT as Hugging Face GPT-2: kiln's GPT names are GPT-2's (runtime/trainer/trainer_session.h,
// modelName), its Conv1D weights are stored [in, out] as GPT-2's are, and the LM head is tied
// to wte. A classifier is GPT2ForSequenceClassification (score.weight, no bias).
#include <sstream>

#include "runtime/checkpoint/json.h"
#include "runtime/trainer/hf_export.h"
#include "runtime/trainer/executable.h"

namespace kiln {

namespace {

const std::string& at(const std::map<std::string, std::string>& cfg, const std::string& key) {
  static const std::string none;
  auto it = cfg.find(key);
  return it == cfg.end() ? none : it->second;
}

}  // namespace

Expected<HfModel> gpt2Model(const std::map<std::string, std::string>& cfg, const std::vector<std::string>& weights, int32_t endOfText) {
  const std::string objective = at(cfg, "objective");
  if (objective != "causal_lm" && objective != "classify" && objective != "reinforce")
    return makeError({}, "export --hf: a GPT trained for " + objective +
                             " has no Hugging Face class; export the causal_lm trainer's checkpoint of the same model");
  // What GPT-2's modeling code fixes.
  if (at(cfg, "model.norm") != "pre") return makeError({}, "export --hf: GPT-2 is pre-norm; this model has model.norm = \"post\"");
  if (at(cfg, "model.positions") != "learned")
    return makeError({}, "export --hf: GPT-2 learns its positions; this model has model.positions = \"sinusoidal\"");
  const std::string act = at(cfg, "model.activation");
  if (act != "gelu" && act != "relu") return makeError({}, "export --hf: GPT-2 has no activation '" + act + "'");
  const bool classify = objective == "classify";
  HfModel m;
  m.architecture = classify ? "GPT2ForSequenceClassification" : "GPT2LMHeadModel";
  m.autoClass = classify ? "AutoModelForSequenceClassification" : "AutoModelForCausalLM";
  for (const std::string& w : weights) m.tensors.emplace_back(w == "score.weight" ? w : "transformer." + w, w);

  using json::quote;
  std::ostringstream c;
  c << "{\n  \"architectures\": [" << quote(m.architecture) << "],\n  \"model_type\": \"gpt2\",\n"
    << "  \"vocab_size\": " << at(cfg, "model.vocab") << ",\n  \"n_positions\": " << at(cfg, "model.context")
    << ",\n  \"n_embd\": " << at(cfg, "model.d_model") << ",\n  \"n_layer\": " << at(cfg, "model.layers")
    << ",\n  \"n_head\": " << at(cfg, "model.heads") << ",\n  \"n_inner\": " << at(cfg, "model.d_ff")
    // kiln's gelu is the tanh form: Hugging Face's "gelu_new".
    << ",\n  \"activation_function\": " << quote(act == "gelu" ? "gelu_new" : "relu")
    << ",\n  \"layer_norm_epsilon\": " << at(cfg, "model.layer_norm_eps")
    << ",\n  \"resid_pdrop\": 0.0,\n  \"embd_pdrop\": 0.0,\n  \"attn_pdrop\": 0.0,\n  \"summary_first_dropout\": 0.0"
    << ",\n  \"scale_attn_weights\": true,\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"float32\"";
  if (endOfText >= 0) c << ",\n  \"bos_token_id\": " << endOfText << ",\n  \"eos_token_id\": " << endOfText;
  if (classify) {
    // kiln pools the last real token of rows padded with <|endoftext|>; Hugging Face pools the
    // last token that is not pad_token_id: the same one.
    const std::vector<std::string> classes = splitConfigList(at(cfg, "objective.classes"));
    c << ",\n  \"num_labels\": " << classes.size() << ",\n  \"pad_token_id\": " << endOfText << ",\n  \"id2label\": {";
    for (size_t i = 0; i < classes.size(); ++i) c << (i ? ", " : "") << quote(std::to_string(i)) << ": " << quote(classes[i]);
    c << "},\n  \"label2id\": {";
    for (size_t i = 0; i < classes.size(); ++i) c << (i ? ", " : "") << quote(classes[i]) << ": " << i;
    c << "}";
  }
  c << "\n}\n";
  m.configJson = c.str();
  return m;
}

}  // namespace kiln
