// The tokenizer of a model: kiln's byte-level BPE (trained on the corpus, or GPT-2's files) or
// BERT's WordPiece (a Hugging Face vocab.txt). Everything that tokenizes (the corpus, labeled
// data, prompts, the batch makers' special tokens, the executable's sections) goes through this.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/bpe_tokenizer.h"
#include "runtime/data/special_tokens.h"
#include "runtime/data/wordpiece_tokenizer.h"

namespace kiln {

class Tokenizer {
 public:
  Tokenizer(BpeTokenizer bpe) : t_(std::move(bpe)) {}
  Tokenizer(WordPieceTokenizer wordPiece) : t_(std::move(wordPiece)) {}

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  int64_t vocabSize() const;
  // The token that ends a document in a corpus stream: <|endoftext|>, or WordPiece's [SEP].
  int32_t endOfText() const;
  // [PAD] [CLS] [SEP] [MASK] of an encoder: after the BPE's ids (the model adds them), or the
  // WordPiece vocabulary's own.
  EncoderSpecials encoderSpecials() const;
  // Ids an encoder's model vocabulary holds beyond vocabSize() (4 for the BPE's specials).
  int64_t encoderExtraIds() const { return wordPiece() ? 0 : kEncoderSpecialCount; }
  std::string kind() const { return wordPiece() ? "wordpiece" : "bpe"; }

  // The executable's sections that hold it, and back; and a text that changes with any of it
  // (checkpoints and the corpus cache are keyed by it).
  std::map<std::string, std::string> sections() const;
  static Expected<Tokenizer> fromSections(const std::map<std::string, std::string>& sections, const std::string& origin);
  std::string fingerprint() const;

  const BpeTokenizer* bpe() const { return std::get_if<BpeTokenizer>(&t_); }
  const WordPieceTokenizer* wordPiece() const { return std::get_if<WordPieceTokenizer>(&t_); }

 private:
  std::variant<BpeTokenizer, WordPieceTokenizer> t_;
};

}  // namespace kiln
