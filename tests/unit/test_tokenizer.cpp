#include <filesystem>

#include "runtime/data/bpe_tokenizer.h"
#include "test_helpers.h"

namespace kiln {

TEST_CASE("pre-tokenization follows GPT-2's pattern") {
  auto parts = preTokenize("Hello, world! It's 2024.\n\n  Yes");
  std::vector<std::string> got(parts.begin(), parts.end());
  CHECK(got == std::vector<std::string>{"Hello", ",", " world", "!", " It", "'s", " 2024", ".", "\n\n ", " Yes"});
  parts = preTokenize("a\n\nb");
  CHECK(std::vector<std::string>(parts.begin(), parts.end()) == std::vector<std::string>{"a", "\n", "\n", "b"});
}

TEST_CASE("byte-level BPE: training, exact round trips, save and load") {
  std::vector<std::string> docs = {"the cat sat on the mat", "the dog sat on the log", "cats and dogs and the rest",
                                   "日本語のテキスト、日本語。", "emoji \xF0\x9F\x98\x80 and bytes \x01\x02"};
  BpeTokenizer t = BpeTokenizer::train(docs, 300);
  CHECK(t.vocabSize() <= 300);
  CHECK(t.vocabSize() > 257);
  CHECK(t.tokenText(t.endOfText()) == BpeTokenizer::kEndOfText);
  CHECK(t.endOfText() == t.vocabSize() - 1);
  for (const auto& d : docs) CHECK(t.decode(t.encode(d)) == d);
  CHECK(t.encode(" the").size() == 1);  // a frequent word became one token
  std::string weird = "\xff\xfe not utf-8 \x80";
  CHECK(t.decode(t.encode(weird)) == weird);
  // Training is deterministic.
  BpeTokenizer again = BpeTokenizer::train(docs, 300);
  CHECK(again.mergesTxt() == t.mergesTxt());
  CHECK(again.vocabJson() == t.vocabJson());
  // Save and load give the same encoding.
  auto dir = std::filesystem::temp_directory_path() / "kiln_tok_test";
  std::filesystem::create_directories(dir);
  REQUIRE(t.save((dir / "vocab.json").string(), (dir / "merges.txt").string()).ok());
  auto loaded = BpeTokenizer::load((dir / "vocab.json").string(), (dir / "merges.txt").string());
  REQUIRE(loaded.ok());
  for (const auto& d : docs) CHECK(loaded->encode(d) == t.encode(d));
  std::filesystem::remove_all(dir);
}

TEST_CASE("GPT-2 style vocab.json with escapes loads") {
  // The 256 byte tokens, then merges of 'Ġ' (the mapped space, \u0120) with 't' and 'Ġt' with 'he'.
  BpeTokenizer bytes = BpeTokenizer::bytes();
  std::string vocab = "{";
  for (int i = 0; i < 256; ++i) {
    std::string tok = bytes.tokenText(i);
    std::string esc;
    if (tok == "\"") esc = "\\\"";
    else if (tok == "\\") esc = "\\\\";
    else if (tok == "\xc4\xa0") esc = "\\u0120";
    else esc = tok;
    vocab += "\"" + esc + "\": " + std::to_string(i) + ", ";
  }
  vocab += "\"\\u0120t\": 256, \"he\": 257, \"\\u0120the\": 258, \"<|endoftext|>\": 259}";
  std::string merges = "#version: 0.2\n\xc4\xa0 t\nh e\n\xc4\xa0t he\n";
  auto t = BpeTokenizer::fromStrings(vocab, merges, "gpt2");
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().str()));
  CHECK(t->encode(" the") == std::vector<int32_t>{258});
  CHECK(t->encode("the") == std::vector<int32_t>{int32_t('t'), 257});
  CHECK(t->endOfText() == 259);
  auto bad = BpeTokenizer::fromStrings("{\"a\": 0,", "", "broken");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().loc.file == "broken/vocab.json");
}

}  // namespace kiln
