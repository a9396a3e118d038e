// BERT's WordPiece tokenizer: basic tokenization (control characters, whitespace, punctuation,
// CJK ideographs, lower-casing and accent stripping for uncased models), greedy longest-match
// pieces with "##" continuations, [UNK]; and the Tokenizer that chooses between it and the BPE.
#include <doctest/doctest.h>

#include "runtime/data/tokenizer.h"
#include "runtime/data/wordpiece_tokenizer.h"

namespace kiln {
namespace {

const char* const kVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\nhello\nworld\n!\n,\ncafe\nnaive\n你\n好\n##s\nthe\nα\nβ\nдом\n";

WordPieceTokenizer uncased() {
  auto t = WordPieceTokenizer::fromVocab(kVocab, true, "vocab.txt");
  REQUIRE(t.ok());
  return t.take();
}

}  // namespace

TEST_CASE("wordpiece: basic tokenization splits punctuation and CJK, lower-cases and strips accents") {
  WordPieceTokenizer t = uncased();
  CHECK(t.basicTokens("Hello, World!") == std::vector<std::string>{"hello", ",", "world", "!"});
  CHECK(t.basicTokens("Café NAÏVE") == std::vector<std::string>{"cafe", "naive"});
  CHECK(t.basicTokens("你好a") == std::vector<std::string>{"你", "好", "a"});
  CHECK(t.basicTokens("a\u00a0b\u3000c\td") == std::vector<std::string>{"a", "b", "c", "d"});  // Unicode spaces
  CHECK(t.basicTokens("a\u200bb\x01") == std::vector<std::string>{"ab"});                     // format and control dropped
  CHECK(t.basicTokens("ΆΛΦΑ Дом") == std::vector<std::string>{"αλφα", "дом"});
  CHECK(t.basicTokens("x\u2014y") == std::vector<std::string>{"x", "\u2014", "y"});  // an em dash is punctuation
  CHECK(t.basicTokens("한") == std::vector<std::string>{"\u1112\u1161\u11ab"});          // Hangul decomposes (NFD)
  auto cased = WordPieceTokenizer::fromVocab(kVocab, false, "vocab.txt");
  REQUIRE(cased.ok());
  CHECK(cased->basicTokens("Café") == std::vector<std::string>{"Café"});
}

TEST_CASE("wordpiece: longest-match pieces, continuations and [UNK]") {
  WordPieceTokenizer t = uncased();
  auto id = [&](const char* s) { return t.idOf(s); };
  CHECK(t.encode("unaffable") == std::vector<int32_t>{id("un"), id("##aff"), id("##able")});
  CHECK(t.encode("Hello, worlds!") == std::vector<int32_t>{id("hello"), id(","), id("world"), id("##s"), id("!")});
  CHECK(t.encode("unknownword") == std::vector<int32_t>{id("[UNK]")});   // no piece covers it: one [UNK] for the word
  CHECK(t.encode(std::string(101, 'a')) == std::vector<int32_t>{id("[UNK]")});  // longer than 100 characters
  CHECK(t.encode("你好") == std::vector<int32_t>{id("你"), id("好")});
  CHECK(t.decode(t.encode("unaffable hello")) == "unaffable hello");
}

TEST_CASE("wordpiece: a vocabulary without [UNK] or with a repeated token is refused by line") {
  auto noUnk = WordPieceTokenizer::fromVocab("a\nb\n", true, "v.txt");
  REQUIRE_FALSE(noUnk.ok());
  CHECK(noUnk.error().str().find("no [UNK]") != std::string::npos);
  auto twice = WordPieceTokenizer::fromVocab("[UNK]\na\na\n", true, "v.txt");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().str().find("v.txt:3") != std::string::npos);
}

TEST_CASE("tokenizer: a WordPiece's specials are its own, and the executable's sections carry either kind") {
  Tokenizer wp = uncased();
  EncoderSpecials sp = wp.encoderSpecials();
  CHECK(sp.pad == 0);
  CHECK(sp.cls == 2);
  CHECK(sp.sep == 3);
  CHECK(sp.mask == 4);
  CHECK(wp.endOfText() == 3);  // a document ends with [SEP]
  CHECK(wp.encoderExtraIds() == 0);
  auto back = Tokenizer::fromSections(wp.sections(), "trainer");
  REQUIRE(back.ok());
  CHECK(back->kind() == "wordpiece");
  CHECK(back->fingerprint() == wp.fingerprint());
  CHECK(back->encode("Hello WORLD") == wp.encode("Hello WORLD"));

  Tokenizer bpe = BpeTokenizer::bytes();
  CHECK(bpe.encoderSpecials().pad == int32_t(bpe.vocabSize()));  // after the BPE's ids
  auto bpeBack = Tokenizer::fromSections(bpe.sections(), "trainer");
  REQUIRE(bpeBack.ok());
  CHECK(bpeBack->kind() == "bpe");
  CHECK(bpeBack->fingerprint() == bpe.fingerprint());
}

}  // namespace kiln
