// kiln's byte-level BPE as a `tokenizers` tokenizer.json. GPT-2's own pre-tokenizer splits on
// Unicode letter and number classes; kiln's counts every non-ASCII character as a letter (so an
// emoji joins the word it touches), and the Split pattern below says exactly that, so the ids
// match kiln's on any text.
#include <map>
#include <sstream>
#include <utility>

#include "runtime/checkpoint/json.h"
#include "runtime/trainer/hf_export.h"

namespace kiln {

namespace {

// runtime/data/bpe_tokenizer.cpp's preTokenize as one regex (Oniguruma, as `tokenizers` runs
// it): contractions, ' ?letters', ' ?digits', ' ?other', whitespace runs that leave their last
// character to what follows, other whitespace. Letters are ASCII letters and every non-ASCII
// character; whitespace is ASCII's.
constexpr const char* kPreTokenizerPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z\x{80}-\x{10FFFF}]+| ?[0-9]+| ?[^\t\n\v\f\r A-Za-z0-9\x{80}-\x{10FFFF}]+|[\t\n\v\f\r ]+(?![^\t\n\v\f\r ])|[\t\n\v\f\r ]+)";

}  // namespace

std::string hfTokenizerJson(const BpeTokenizer& tok, const HfModel& model) {
  using json::quote;
  std::ostringstream o;
  o << "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [";
  auto added = [&](int32_t id, const std::string& content, bool first) {
    o << (first ? "" : ", ") << "{\"id\": " << id << ", \"content\": " << quote(content)
      << ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}";
  };
  bool first = true;
  if (tok.endOfText() >= 0) added(tok.endOfText(), BpeTokenizer::kEndOfText, std::exchange(first, false));
  for (const HfSpecialToken& s : model.specials) added(s.id, s.content, std::exchange(first, false));
  o << "],\n  \"normalizer\": null,\n"
    << "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
    << quote(kPreTokenizerPattern) << "}, \"behavior\": \"Isolated\", \"invert\": false}, "
    << "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]},\n";
  if (model.singleTemplate.empty()) {
    o << "  \"post_processor\": null,\n";
  } else {
    // [CLS] $A [SEP]: the special tokens by content, with their ids.
    o << "  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [";
    for (size_t i = 0; i < model.singleTemplate.size(); ++i) {
      const std::string& piece = model.singleTemplate[i];
      o << (i ? ", " : "")
        << (piece == "$A" ? "{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}" : "{\"SpecialToken\": {\"id\": " + quote(piece) + ", \"type_id\": 0}}");
    }
    o << "], \"pair\": [], \"special_tokens\": {";
    bool firstSpecial = true;
    for (const std::string& piece : model.singleTemplate)
      for (const HfSpecialToken& s : model.specials)
        if (s.content == piece)
          o << (std::exchange(firstSpecial, false) ? "" : ", ") << quote(piece) << ": {\"id\": " << quote(piece) << ", \"ids\": [" << s.id
            << "], \"tokens\": [" << quote(piece) << "]}";
    o << "}},\n";
  }
  o << "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false},\n"
    << "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, "
       "\"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": false,\n    \"vocab\": {";
  for (int32_t id = 0; id < int32_t(tok.vocabSize()); ++id) o << (id ? ", " : "") << quote(tok.tokenText(id)) << ": " << id;
  o << "},\n    \"merges\": [";
  std::istringstream merges(tok.mergesTxt());
  std::string line;
  first = true;
  while (std::getline(merges, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    o << (std::exchange(first, false) ? "" : ", ") << "[" << quote(line.substr(0, space)) << ", " << quote(line.substr(space + 1)) << "]";
  }
  o << "]\n  }\n}\n";
  return o.str();
}

std::string hfTokenizerConfigJson(const Tokenizer& tok, const HfModel& model, int64_t maxLength) {
  using json::quote;
  if (const WordPieceTokenizer* w = tok.wordPiece())
    return "{\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"do_lower_case\": " + std::string(w->lowerCase() ? "true" : "false") +
           ",\n  \"model_max_length\": " + std::to_string(maxLength) +
           ",\n  \"unk_token\": \"[UNK]\",\n  \"pad_token\": \"[PAD]\",\n  \"cls_token\": \"[CLS]\",\n  \"sep_token\": \"[SEP]\",\n  \"mask_token\": \"[MASK]\"\n}\n";
  std::map<std::string, std::string> roles;
  if (tok.endOfText() >= 0)
    for (const char* k : {"bos_token", "eos_token", "unk_token"}) roles[k] = BpeTokenizer::kEndOfText;
  for (const HfSpecialToken& s : model.specials)
    if (!s.role.empty()) roles[s.role] = s.content;
  std::ostringstream o;
  o << "{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"model_max_length\": " << maxLength
    << ",\n  \"clean_up_tokenization_spaces\": false";
  for (const auto& [role, content] : roles) o << ",\n  " << quote(role) << ": " << quote(content);
  o << "\n}\n";
  return o.str();
}

}  // namespace kiln
