// Labeled texts for classification: labels from file names or JSON lines, with located errors,
// sorted classes, a split by text hash, and rows with specials and padding.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "runtime/data/labeled_data.h"

namespace kiln {

namespace {

std::string writeTemp(const std::string& dir, const std::string& name, const std::string& text) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("labeled data: file names and JSON lines, errors with file and line") {
  std::string dir = std::filesystem::temp_directory_path().string() + "/kiln-labeled-test";
  std::filesystem::remove_all(dir);
  writeTemp(dir, "jokes", "a joke\n%\nanother joke\n%\nthird joke\n");
  writeTemp(dir, "facts", "a fact\n%\nanother fact\n");
  CorpusSource src;
  src.files = {dir + "/jokes", dir + "/facts"};
  src.valFraction = 0.4;
  auto texts = readLabeledTexts(src, "file_name");
  REQUIRE(texts.ok());
  REQUIRE(texts->size() == 5);
  CHECK((*texts)[0].label == "jokes");
  CHECK((*texts)[4].label == "facts");
  auto data = labelData(*texts, BpeTokenizer::bytes(), src);
  REQUIRE_MESSAGE(data.ok(), (data.ok() ? "" : data.error().str()));
  CHECK(data->classes == std::vector<std::string>{"facts", "jokes"});
  CHECK(data->train.size() + data->val.size() == 5);

  std::string good = writeTemp(dir, "good.jsonl", "{\"text\": \"great movie\", \"label\": \"pos\"}\n\n{\"text\": \"awful\", \"label\": 0}\n");
  src.files = {good};
  auto j = readLabeledTexts(src, "jsonl");
  REQUIRE(j.ok());
  REQUIRE(j->size() == 2);
  CHECK((*j)[1].label == "0.0");
  std::string bad = writeTemp(dir, "bad.jsonl", "{\"text\": \"fine\", \"label\": \"a\"}\n{\"label\": \"b\"}\n");
  src.files = {bad};
  auto e = readLabeledTexts(src, "jsonl");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().str().find("bad.jsonl:2:1: error: the object needs a string \"text\"") != std::string::npos);
  std::string notJson = writeTemp(dir, "broken.jsonl", "not json\n");
  src.files = {notJson};
  CHECK_FALSE(readLabeledTexts(src, "jsonl").ok());

  // One class is not a classification problem.
  CHECK_FALSE(labelData({{"x", "a"}, {"y", "a"}}, BpeTokenizer::bytes(), src).ok());
  std::filesystem::remove_all(dir);
}

TEST_CASE("labeled data: encoder rows get [CLS] text [SEP] and padding, missing rows are ignored") {
  LabeledExample e{{5, 6, 7, 8, 9}, 1};
  ClassifyLayout l;
  l.batch = 2;
  l.context = 5;
  l.cls = 100;
  l.sep = 101;
  l.pad = 102;
  auto rows = classifyRows({&e}, l);
  CHECK(rows[0].data == std::vector<double>{100, 5, 6, 7, 101, 102, 102, 102, 102, 102});
  CHECK(rows[1].data == std::vector<double>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0});
  CHECK(rows[2].data == std::vector<double>{1, -100});
  l.encoder = false;
  auto dec = classifyRows({&e}, l);
  CHECK(dec[0].data == std::vector<double>{5, 6, 7, 8, 9, 102, 102, 102, 102, 102});
}

}  // namespace kiln

namespace kiln {

TEST_CASE("labeled data: cloze rows put the text and the slot where the template says") {
  BpeTokenizer tok = BpeTokenizer::bytes();
  auto tpl = ClozeTemplate::parse("{text} is [MASK].", tok);
  REQUIRE(tpl.ok());
  CHECK(tpl->textFirst);
  CHECK(tpl->parts[1] == tok.encode(" is "));
  CHECK(tpl->parts[2] == tok.encode("."));
  CHECK_FALSE(ClozeTemplate::parse("no slot here {text}", tok).ok());
  LabeledExample e{tok.encode("abcdefgh"), 2};
  ClassifyLayout l;
  l.batch = 1;
  l.context = 12;
  l.cls = 300;
  l.sep = 301;
  l.pad = 302;
  // Encoder: [CLS] text (cut to 12 - (4 + 1 + 1 + 2) = 4 tokens) " is " [MASK] "." [SEP].
  auto enc = clozeRows({&e}, l, *tpl, 303);
  std::vector<double> want = {300, 'a', 'b', 'c', 'd', ' ', 'i', 's', ' ', 303, '.', 301};
  CHECK(enc[0].data == want);
  CHECK(enc[2][0] == 9);  // the slot is the [MASK]
  CHECK(enc[3][0] == 2);
  // Decoder: the text before the slot, read at its last token.
  l.encoder = false;
  auto dec = clozeRows({&e}, l, *tpl, 303);
  CHECK(dec[0][int64_t(0)] == 'a');
  // "abcdefgh is" fits (12 tokens allow 12 - (4 + 1) = 7 of text: "abcdefg" + " is"): the
  // slot is the last token before [MASK], the space after "is".
  CHECK(dec[2][0] == 10);
  CHECK(dec[0][int64_t(10)] == ' ');
  CHECK(dec[1][int64_t(10)] == 1);
  CHECK(dec[1][int64_t(11)] == 0);
}

}  // namespace kiln
