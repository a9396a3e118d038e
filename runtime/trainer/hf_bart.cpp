// The encoder-decoder as Hugging Face BART: kiln's names are BartForConditionalGeneration's
// (model.shared, model.encoder/decoder.*), post-LN with layernorm_embedding, unscaled embeddings,
// erf GELU, the LM head tied to model.shared. Two differences are written out: BART's learned
// positions start at row 2 (two rows of zeros go first) and it keeps a final_logits_bias (zeros).
// The tokenizer adds kiln's [PAD], [MASK] and sentinels <extra_k> after the BPE's ids; the
// decoder starts from <|endoftext|>, kiln's end of sequence.
#include <sstream>

#include "runtime/checkpoint/json.h"
#include "runtime/data/denoising_batches.h"
#include "runtime/trainer/hf_export.h"

namespace kiln {

Expected<HfModel> bartModel(const HfSource& in) {
  if (in.setting("objective") != "seq2seq")
    return makeError({}, "export --hf: an encoder-decoder trained for " + in.setting("objective") + " has no Hugging Face class");
  const std::string act = in.setting("model.activation");
  if (act != "gelu" && act != "relu") return makeError({}, "export --hf: BART has no activation '" + act + "'");
  // BART's layer norms use PyTorch's default epsilon; its config has no field for another.
  if (std::stod(in.setting("model.layer_norm_eps")) != 1e-5)
    return makeError({}, "export --hf: BART's layer norms have epsilon 1e-5; this model has model.layer_norm_eps = " +
                             in.setting("model.layer_norm_eps"));
  HfModel m;
  m.architecture = "BartForConditionalGeneration";
  m.autoClass = "AutoModelForSeq2SeqLM";
  for (const auto& [w, type] : in.weights)
    m.tensors.push_back(HfTensor::state(w, w, w.find(".embed_positions.") != std::string::npos ? 2 : 0));
  const int64_t vocab = std::stoll(in.setting("model.vocab"));
  m.tensors.push_back(HfTensor::zeros("final_logits_bias", TensorType{DType::F32, {1, vocab}}));
  DenoisingSettings d;
  d.tokenizerVocab = in.tok.vocabSize();
  m.specials = {{d.pad(), "[PAD]", "pad_token"}, {d.mask(), "[MASK]", "mask_token"}};
  for (int64_t k = 0; k < kDenoisingSentinels; ++k) m.specials.push_back({d.sentinel(k), "<extra_" + std::to_string(k) + ">", ""});
  const int32_t eos = in.tok.endOfText();

  using json::quote;
  const std::string layers = in.setting("model.layers"), heads = in.setting("model.heads"), ff = in.setting("model.d_ff");
  std::ostringstream c;
  c << "{\n  \"architectures\": [" << quote(m.architecture) << "],\n  \"model_type\": \"bart\",\n"
    << "  \"vocab_size\": " << vocab << ",\n  \"d_model\": " << in.setting("model.d_model") << ",\n  \"encoder_layers\": " << layers
    << ",\n  \"decoder_layers\": " << layers << ",\n  \"encoder_attention_heads\": " << heads << ",\n  \"decoder_attention_heads\": " << heads
    << ",\n  \"encoder_ffn_dim\": " << ff << ",\n  \"decoder_ffn_dim\": " << ff << ",\n  \"activation_function\": " << quote(act)
    << ",\n  \"max_position_embeddings\": " << in.setting("model.context")
    << ",\n  \"dropout\": 0.0,\n  \"attention_dropout\": 0.0,\n  \"activation_dropout\": 0.0,\n  \"classifier_dropout\": 0.0"
    << ",\n  \"encoder_layerdrop\": 0.0,\n  \"decoder_layerdrop\": 0.0,\n  \"scale_embedding\": false,\n  \"normalize_before\": false"
    << ",\n  \"add_final_layer_norm\": false,\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"float32\""
    << ",\n  \"pad_token_id\": " << d.pad() << ",\n  \"bos_token_id\": " << eos << ",\n  \"eos_token_id\": " << eos
    << ",\n  \"decoder_start_token_id\": " << eos << ",\n  \"forced_eos_token_id\": " << eos << "\n}\n";
  m.configJson = c.str();
  return m;
}

}  // namespace kiln
