// Labeled texts for classification: documents labeled by the name of their file (the fortunes
// categories: art, computers, ...) or JSON lines {"text": ..., "label": ...}. The train /
// validation split hashes each text with the seed (like the corpus), so it does not depend on
// file order; class ids follow the sorted label names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/tokenizer.h"
#include "runtime/data/corpus.h"
#include "eval/tensor.h"

namespace kiln {

struct LabeledExample {
  std::vector<int32_t> tokens;  // the text, encoded
  int32_t label = 0;
};

struct LabeledData {
  std::vector<std::string> classes;  // sorted; the class id is the index
  std::vector<LabeledExample> train, val;
};

struct LabeledText {
  std::string text, label;
};

// `labels`: "file_name" or "jsonl". Errors name the file and line (a JSON line without a string
// "text", a missing file).
// JSON lines {"text": ..., "label": ...} (blank lines skipped); errors name `path` and the line.
Expected<std::vector<LabeledText>> parseJsonLines(const std::string& text, const std::string& path);
Expected<std::vector<LabeledText>> readLabeledTexts(const CorpusSource& src, const std::string& labels);

// Classes, encoding and the split; fewer than two classes or an empty split is an error.
Expected<LabeledData> labelData(const std::vector<LabeledText>& texts, const Tokenizer& tok, const CorpusSource& src);

// Rows of `context` tokens: encoders [CLS] text [SEP] [PAD]..., decoders text [eot]...;
// texts are cut to fit. Returns input_ids, attention_mask (1 real / 0 padding), labels.
struct ClassifyLayout {
  int64_t batch = 1, context = 8;
  bool encoder = true;
  int32_t cls = 0, sep = 0, pad = 0;  // encoder specials; decoders pad with `pad` too
};
std::vector<ref::Tensor> classifyRows(const std::vector<const LabeledExample*>& examples, const ClassifyLayout& l);

// A cloze template "A {text} B [MASK] C" (or with [MASK] first), its literal parts encoded.
struct ClozeTemplate {
  std::vector<int32_t> parts[3];  // before the first slot, between the slots, after the second
  bool textFirst = true;
  static Expected<ClozeTemplate> parse(const std::string& text, const Tokenizer& tok);
};
// Rows with the example's text (cut to fit) in the template: encoders [CLS] ... [MASK] ... [SEP]
// with `slot` at [MASK]; decoders the tokens before [MASK] with `slot` at the last of them
// (its next-token prediction). Returns input_ids, attention_mask, slot, labels.
std::vector<ref::Tensor> clozeRows(const std::vector<const LabeledExample*>& examples, const ClassifyLayout& l,
                                   const ClozeTemplate& t, int32_t maskToken);

}  // namespace kiln
