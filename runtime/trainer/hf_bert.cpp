// BERT as Hugging Face BERT: kiln's names are BertForPreTraining's (bert.*, cls.*), its linear
// weights [out, in] as PyTorch's, the MLM decoder tied to the word embeddings. The class follows
// the objective: BertForPreTraining (mlm with NSP), BertForMaskedLM (mlm, cloze),
// BertForSequenceClassification (classify, with its labels). The tokenizer adds kiln's [PAD]
// [CLS] [SEP] [MASK] after the BPE's ids and wraps one text as [CLS] text [SEP].
#include <sstream>

#include "runtime/checkpoint/json.h"
#include "runtime/data/special_tokens.h"
#include "runtime/trainer/hf_export.h"

namespace kiln {

Expected<HfModel> bertModel(const HfSource& in) {
  const std::string objective = in.setting("objective");
  bool nsp = false;
  for (const auto& [w, type] : in.weights) nsp |= w.rfind("cls.seq_relationship.", 0) == 0;
  HfModel m;
  if (objective == "classify") m.architecture = "BertForSequenceClassification", m.autoClass = "AutoModelForSequenceClassification";
  else if (objective == "mlm" && nsp) m.architecture = "BertForPreTraining", m.autoClass = "AutoModelForPreTraining";
  else if (objective == "mlm" || objective == "cloze") m.architecture = "BertForMaskedLM", m.autoClass = "AutoModelForMaskedLM";
  else return makeError({}, "export --hf: a BERT trained for " + objective + " has no Hugging Face class");
  const std::string act = in.setting("model.activation");
  if (act != "gelu" && act != "relu") return makeError({}, "export --hf: BERT has no activation '" + act + "'");
  for (const auto& [w, type] : in.weights) m.tensors.push_back(HfTensor::state(w, w));
  const EncoderSpecials sp = in.tok.encoderSpecials();
  m.specials = {{sp.pad, "[PAD]", "pad_token"}, {sp.cls, "[CLS]", "cls_token"}, {sp.sep, "[SEP]", "sep_token"}, {sp.mask, "[MASK]", "mask_token"}};
  m.singleTemplate = {"[CLS]", "$A", "[SEP]"};

  using json::quote;
  std::ostringstream c;
  c << "{\n  \"architectures\": [" << quote(m.architecture) << "],\n  \"model_type\": \"bert\",\n"
    << "  \"vocab_size\": " << in.setting("model.vocab") << ",\n  \"hidden_size\": " << in.setting("model.d_model")
    << ",\n  \"num_hidden_layers\": " << in.setting("model.layers") << ",\n  \"num_attention_heads\": " << in.setting("model.heads")
    << ",\n  \"intermediate_size\": " << in.setting("model.d_ff")
    // kiln's BERT gelu is the erf form, as Hugging Face's "gelu".
    << ",\n  \"hidden_act\": " << quote(act) << ",\n  \"hidden_dropout_prob\": 0.0,\n  \"attention_probs_dropout_prob\": 0.0"
    << ",\n  \"max_position_embeddings\": " << in.setting("model.context") << ",\n  \"type_vocab_size\": 2"
    << ",\n  \"layer_norm_eps\": " << in.setting("model.layer_norm_eps") << ",\n  \"pad_token_id\": " << sp.pad
    << ",\n  \"position_embedding_type\": \"absolute\",\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"float32\"";
  if (objective == "classify") c << hfLabelsJson(in);
  c << "\n}\n";
  m.configJson = c.str();
  return m;
}

}  // namespace kiln
