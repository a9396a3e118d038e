// `TRAINER export --hf DIR`: a checkpoint as a folder Hugging Face `transformers` loads with
// AutoModelFor...from_pretrained(DIR) and AutoTokenizer.from_pretrained(DIR): config.json,
// model.safetensors (the weights only, under the Hugging Face class's names) and the tokenizer.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "ir/types.h"
#include "runtime/data/tokenizer.h"

namespace kiln {

// One tensor of the export: a kiln state under its Hugging Face name, with `leadingZeroRows`
// rows of zeros before its own (BART's positions start at row 2), or, without a kiln state, a
// tensor of zeros of `zerosType` (a buffer Hugging Face keeps and kiln does not).
struct HfTensor {
  std::string hfName, kilnName;
  int64_t leadingZeroRows = 0;
  TensorType zerosType;

  static HfTensor state(std::string hf, std::string kiln, int64_t leadingZeroRows = 0) {
    return {std::move(hf), std::move(kiln), leadingZeroRows, {}};
  }
  static HfTensor zeros(std::string hf, TensorType type) { return {std::move(hf), "", 0, std::move(type)}; }
};

// A special token of the export's tokenizer, beside the BPE's own.
struct HfSpecialToken {
  int32_t id;
  std::string content;
  std::string role;  // "pad_token", "cls_token", ...: tokenizer_config.json names it
};

// What one model family exports: the class, its config, its tensors and its tokenizer's extras.
struct HfModel {
  std::string architecture;  // "GPT2LMHeadModel"
  std::string autoClass;     // "AutoModelForCausalLM", for the message that says how to load it
  std::string configJson;
  std::vector<HfTensor> tensors;
  std::vector<HfSpecialToken> specials;
  // A post-processor template around one text ("[CLS] $A [SEP]"), or none.
  std::vector<std::string> singleTemplate;
};

// What the families read: the trainer's settings (model.*, objective, objective.classes), its
// weights' names and types, and its tokenizer.
struct HfSource {
  const std::map<std::string, std::string>& cfg;
  std::vector<std::pair<std::string, TensorType>> weights;
  const Tokenizer& tok;
  std::string setting(const std::string& key) const {
    auto it = cfg.find(key);
    return it == cfg.end() ? std::string() : it->second;
  }
};

// Each family's class, config and names (hf_gpt2.cpp, hf_bert.cpp, hf_bart.cpp); an error
// naming the setting the Hugging Face class cannot express.
Expected<HfModel> gpt2Model(const HfSource& in);
Expected<HfModel> bertModel(const HfSource& in);
Expected<HfModel> bartModel(const HfSource& in);

// "id2label"/"label2id"/"num_labels" of a classifier's config, from objective.classes.
std::string hfLabelsJson(const HfSource& in);

// tokenizer.json for the `tokenizers` library: kiln's byte-level BPE with its own pre-tokenizer
// (non-ASCII characters count as letters, as in runtime/data/bpe_tokenizer.h), so the ids are
// kiln's for any text, plus the model's special tokens; with tokenizer_config.json naming them.
std::string hfTokenizerJson(const BpeTokenizer& tok, const HfModel& model);
// tokenizer_config.json; for a WordPiece tokenizer, BERT's own (vocab.txt, do_lower_case).
std::string hfTokenizerConfigJson(const Tokenizer& tok, const HfModel& model, int64_t maxLength);

}  // namespace kiln
