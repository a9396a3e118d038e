// The BPE tokenizer's readers (GPT-2's vocab.json and merges.txt) on arbitrary text; a
// tokenizer that loads encodes and decodes its own vocabulary's text. The input is split at
// the first NUL byte into the two files. The first part is also read as a WordPiece vocab.txt
// (cased and uncased), which then encodes the second part as arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/data/bpe_tokenizer.h"
#include "runtime/data/wordpiece_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string all(reinterpret_cast<const char*>(data), size);
  size_t cut = all.find('\0');
  std::string vocab = all.substr(0, cut), merges = cut == std::string::npos ? "" : all.substr(cut + 1);
  for (bool lowerCase : {true, false})
    if (auto wp = kiln::WordPieceTokenizer::fromVocab(vocab + "\n[UNK]\n", lowerCase, "fuzz"))
      (void)wp->decode(wp->encode(merges));
  auto tok = kiln::BpeTokenizer::fromStrings(vocab, merges, "fuzz");
  if (!tok) return 0;
  auto ids = tok->encode("The quick brown fox \xE2\x80\x94 \xF0\x9F\x98\x80 " + merges.substr(0, 64));
  (void)tok->decode(ids);
  return 0;
}
