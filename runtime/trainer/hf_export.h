// `TRAINER export --hf DIR`: a checkpoint as a folder Hugging Face `transformers` loads with
// AutoModelFor...from_pretrained(DIR) and AutoTokenizer.from_pretrained(DIR): config.json,
// model.safetensors (the weights only, under the Hugging Face class's names) and the tokenizer.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/bpe_tokenizer.h"

namespace kiln {

// What one model family exports: the class, its config and where each tensor goes.
struct HfModel {
  std::string architecture;  // "GPT2LMHeadModel"
  std::string autoClass;     // "AutoModelForCausalLM", for the message that says how to load it
  std::string configJson;
  std::vector<std::pair<std::string, std::string>> tensors;  // Hugging Face name, kiln state name
};

// The trainer's settings (model.*, objective, objective.classes) and weight names, to a GPT-2
// class; an error naming the setting Hugging Face GPT-2 cannot express.
Expected<HfModel> gpt2Model(const std::map<std::string, std::string>& cfg, const std::vector<std::string>& weights, int32_t endOfText);

// tokenizer.json for the `tokenizers` library: kiln's byte-level BPE with its own pre-tokenizer
// (non-ASCII characters count as letters, as in runtime/data/bpe_tokenizer.h), so the ids are
// kiln's for any text; with tokenizer_config.json naming the special tokens.
std::string hfTokenizerJson(const BpeTokenizer& tok);
std::string hfTokenizerConfigJson(const BpeTokenizer& tok, int64_t maxLength);

}  // namespace kiln
