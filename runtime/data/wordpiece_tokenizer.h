// BERT's WordPiece tokenizer, read from a Hugging Face `vocab.txt` (one token per line, the id
// is the line number): basic tokenization (control characters dropped, whitespace split,
// punctuation and CJK ideographs as tokens of their own, and for uncased models lower-casing
// and accent stripping), then greedy longest-match-first pieces with "##" continuations, and
// [UNK] for a word that has none (or is longer than 100 characters).
//
// Without a Unicode library, the character classes are tables: lower-casing and accent
// stripping cover Latin (Latin-1 and Latin Extended-A/B), Greek and Cyrillic, punctuation covers
// ASCII, Latin-1, General Punctuation, CJK and full-width punctuation; other scripts pass as
// they are (as letters).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

class WordPieceTokenizer {
 public:
  // `vocabTxt`'s text; `origin` names it in errors (a missing [UNK], a repeated token).
  static Expected<WordPieceTokenizer> fromVocab(const std::string& vocabTxt, bool lowerCase, const std::string& origin);

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;

  int64_t vocabSize() const { return int64_t(tokens_.size()); }
  const std::string& tokenText(int32_t id) const { return tokens_[size_t(id)]; }
  // The id of a token ("[CLS]"), or -1.
  int32_t idOf(const std::string& token) const;
  bool lowerCase() const { return lowerCase_; }
  // vocab.txt's text, as read.
  std::string vocabTxt() const;

  // The basic tokenizer's words of `text` (exposed for tests).
  std::vector<std::string> basicTokens(std::string_view text) const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
  bool lowerCase_ = true;
  int32_t unk_ = -1;
};

}  // namespace kiln
