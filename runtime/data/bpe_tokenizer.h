// Byte-level BPE as in GPT-2: text is split into pre-tokens (words with their leading space,
// numbers, punctuation runs, whitespace), each pre-token's UTF-8 bytes are mapped to printable
// characters, and learned merges join adjacent symbols by rank. Any byte sequence round-trips,
// so any UTF-8 text (CJK included) encodes and decodes exactly. Files are GPT-2's own
// `vocab.json` + `merges.txt`, so GPT-2's tokenizer loads too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

class BpeTokenizer {
 public:
  static constexpr const char* kEndOfText = "<|endoftext|>";

  // Learns merges from `documents` until the vocabulary (256 bytes + merges + <|endoftext|>)
  // has `vocabSize` entries (fewer if the corpus runs out of pairs). Deterministic.
  static BpeTokenizer train(const std::vector<std::string>& documents, int64_t vocabSize);
  // Only the 256 byte tokens and <|endoftext|>.
  static BpeTokenizer bytes();
  static Expected<BpeTokenizer> load(const std::string& vocabJson, const std::string& mergesTxt);
  Status save(const std::string& vocabJson, const std::string& mergesTxt) const;

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids) const;

  int64_t vocabSize() const { return int64_t(tokens_.size()); }
  int32_t endOfText() const { return endOfText_; }
  const std::string& tokenText(int32_t id) const { return tokens_[size_t(id)]; }  // byte-mapped form
  size_t numMerges() const { return merges_.size(); }

  // The serialized form (vocab.json and merges.txt contents), for embedding in executables.
  std::string vocabJson() const;
  std::string mergesTxt() const;
  static Expected<BpeTokenizer> fromStrings(const std::string& vocabJson, const std::string& mergesTxt,
                                           const std::string& origin);

 private:
  void indexTokens();
  std::vector<int32_t> encodeWord(const std::string& mappedWord) const;

  std::vector<std::string> tokens_;  // id -> byte-mapped token text
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::pair<std::string, std::string>> merges_;
  std::unordered_map<std::string, int32_t> mergeRank_;  // "a b" -> rank
  int32_t endOfText_ = -1;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

// GPT-2's pre-tokenizer: contractions, ' ?letters', ' ?digits', ' ?other', whitespace runs.
// Non-ASCII characters count as letters.
std::vector<std::string_view> preTokenize(std::string_view text);

}  // namespace kiln
