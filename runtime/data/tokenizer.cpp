#include "runtime/data/tokenizer.h"

namespace kiln {

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  return std::visit([&](const auto& t) { return t.encode(text); }, t_);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  return std::visit([&](const auto& t) { return t.decode(ids); }, t_);
}

int64_t Tokenizer::vocabSize() const {
  return std::visit([](const auto& t) { return t.vocabSize(); }, t_);
}

int32_t Tokenizer::endOfText() const { return bpe() ? bpe()->endOfText() : wordPiece()->idOf("[SEP]"); }

EncoderSpecials Tokenizer::encoderSpecials() const {
  if (bpe()) return EncoderSpecials::after(bpe()->vocabSize());
  const WordPieceTokenizer& w = *wordPiece();
  return {w.idOf("[PAD]"), w.idOf("[CLS]"), w.idOf("[SEP]"), w.idOf("[MASK]")};
}

std::map<std::string, std::string> Tokenizer::sections() const {
  if (bpe()) return {{"vocab.json", bpe()->vocabJson()}, {"merges.txt", bpe()->mergesTxt()}};
  return {{"vocab.txt", wordPiece()->vocabTxt()}, {"wordpiece.lowercase", wordPiece()->lowerCase() ? "true" : "false"}};
}

Expected<Tokenizer> Tokenizer::fromSections(const std::map<std::string, std::string>& sections, const std::string& origin) {
  auto section = [&](const std::string& name) {
    auto it = sections.find(name);
    return it == sections.end() ? std::string() : it->second;
  };
  if (sections.count("vocab.txt")) {
    auto w = WordPieceTokenizer::fromVocab(section("vocab.txt"), section("wordpiece.lowercase") != "false", origin + "/vocab.txt");
    if (!w) return w.error();
    return Tokenizer(w.take());
  }
  auto b = BpeTokenizer::fromStrings(section("vocab.json"), section("merges.txt"), origin);
  if (!b) return b.error();
  return Tokenizer(b.take());
}

std::string Tokenizer::fingerprint() const {
  // The BPE's as it always was (checkpoints written before WordPiece keep their hash).
  if (bpe()) return bpe()->vocabJson() + bpe()->mergesTxt();
  return "wordpiece:" + std::string(wordPiece()->lowerCase() ? "uncased\n" : "cased\n") + wordPiece()->vocabTxt();
}

}  // namespace kiln
