// GPT as Hugging Face GPT-2: kiln's GPT names are GPT-2's (runtime/trainer/trainer_session.h,
// modelName), its Conv1D weights are stored [in, out] as GPT-2's are, and the LM head is tied
// to wte. A classifier is GPT2ForSequenceClassification (score.weight, no bias).
#include <sstream>

#include "runtime/checkpoint/json.h"
#include "runtime/trainer/executable.h"
#include "runtime/trainer/hf_export.h"

namespace kiln {

std::string hfLabelsJson(const HfSource& in) {
  using json::quote;
  const std::vector<std::string> classes = splitConfigList(in.setting("objective.classes"));
  std::ostringstream c;
  c << ",\n  \"num_labels\": " << classes.size() << ",\n  \"id2label\": {";
  for (size_t i = 0; i < classes.size(); ++i) c << (i ? ", " : "") << quote(std::to_string(i)) << ": " << quote(classes[i]);
  c << "},\n  \"label2id\": {";
  for (size_t i = 0; i < classes.size(); ++i) c << (i ? ", " : "") << quote(classes[i]) << ": " << i;
  c << "}";
  return c.str();
}

Expected<HfModel> gpt2Model(const HfSource& in) {
  const std::string objective = in.setting("objective");
  if (objective != "causal_lm" && objective != "classify" && objective != "reinforce" && objective != "cloze")
    return makeError({}, "export --hf: a GPT trained for " + objective +
                             " has no Hugging Face class; export the causal_lm trainer's checkpoint of the same model");
  // What GPT-2's modeling code fixes.
  if (in.setting("model.norm") != "pre") return makeError({}, "export --hf: GPT-2 is pre-norm; this model has model.norm = \"post\"");
  if (in.setting("model.positions") != "learned")
    return makeError({}, "export --hf: GPT-2 learns its positions; this model has model.positions = \"sinusoidal\"");
  const std::string act = in.setting("model.activation");
  if (act != "gelu" && act != "relu") return makeError({}, "export --hf: GPT-2 has no activation '" + act + "'");
  const bool classify = objective == "classify";
  HfModel m;
  m.architecture = classify ? "GPT2ForSequenceClassification" : "GPT2LMHeadModel";
  m.autoClass = classify ? "AutoModelForSequenceClassification" : "AutoModelForCausalLM";
  for (const auto& [w, type] : in.weights) m.tensors.push_back(HfTensor::state(w == "score.weight" ? w : "transformer." + w, w));

  using json::quote;
  const int32_t eot = in.tok.endOfText();
  std::ostringstream c;
  c << "{\n  \"architectures\": [" << quote(m.architecture) << "],\n  \"model_type\": \"gpt2\",\n"
    << "  \"vocab_size\": " << in.setting("model.vocab") << ",\n  \"n_positions\": " << in.setting("model.context")
    << ",\n  \"n_embd\": " << in.setting("model.d_model") << ",\n  \"n_layer\": " << in.setting("model.layers")
    << ",\n  \"n_head\": " << in.setting("model.heads") << ",\n  \"n_inner\": " << in.setting("model.d_ff")
    // kiln's GPT gelu is the tanh form: Hugging Face's "gelu_new".
    << ",\n  \"activation_function\": " << quote(act == "gelu" ? "gelu_new" : "relu")
    << ",\n  \"layer_norm_epsilon\": " << in.setting("model.layer_norm_eps")
    << ",\n  \"resid_pdrop\": 0.0,\n  \"embd_pdrop\": 0.0,\n  \"attn_pdrop\": 0.0,\n  \"summary_first_dropout\": 0.0"
    << ",\n  \"scale_attn_weights\": true,\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"float32\"";
  if (eot >= 0) c << ",\n  \"bos_token_id\": " << eot << ",\n  \"eos_token_id\": " << eot;
  // kiln pools the last real token of rows padded with <|endoftext|>; Hugging Face pools the
  // last token that is not pad_token_id: the same one.
  if (classify) c << ",\n  \"pad_token_id\": " << eot << hfLabelsJson(in);
  c << "\n}\n";
  m.configJson = c.str();
  return m;
}

}  // namespace kiln
