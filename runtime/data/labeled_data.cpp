#include "runtime/data/labeled_data.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "ir/attributes.h"
#include "ir/parser.h"
#include "runtime/checkpoint/json.h"
#include "eval/random.h"

namespace kiln {

Expected<std::vector<LabeledText>> parseJsonLines(const std::string& text, const std::string& path) {
  std::vector<LabeledText> out;
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Location at{path, lineNo, 1};
    auto v = json::parse(line, path);
    if (!v) return makeError(at, "not a JSON object: " + v.error().message);
    if (!v->isObject()) return makeError(at, "expected a JSON object {\"text\": ..., \"label\": ...}");
    const auto& o = v->object();
    auto t = o.find("text");
    auto l = o.find("label");
    if (t == o.end() || !t->second.isString()) return makeError(at, "the object needs a string \"text\"");
    if (l == o.end() || !(l->second.isString() || l->second.isNumber()))
      return makeError(at, "the object needs a \"label\" (a string or a number)");
    std::string label = l->second.isString() ? l->second.string() : formatDouble(l->second.number());
    out.push_back({t->second.string(), label});
  }
  return out;
}

namespace {

Expected<std::vector<LabeledText>> readJsonLines(const CorpusSource& src) {
  auto files = readDocumentsByFile(src);  // the file list, each checked as UTF-8 text
  if (!files) return files.error();
  std::vector<LabeledText> out;
  for (const auto& [path, docs] : *files) {
    auto text = readFile(path);
    if (!text) return text.error();
    auto lines = parseJsonLines(*text, path);
    if (!lines) return lines.error();
    out.insert(out.end(), lines->begin(), lines->end());
  }
  return out;
}

}  // namespace

Expected<std::vector<LabeledText>> readLabeledTexts(const CorpusSource& src, const std::string& labels) {
  if (labels == "jsonl") return readJsonLines(src);
  auto files = readDocumentsByFile(src);
  if (!files) return files.error();
  std::vector<LabeledText> raw;
  for (const auto& [path, docs] : *files)
    for (const auto& d : docs) raw.push_back({d, std::filesystem::path(path).filename().string()});
  return raw;
}

Expected<LabeledData> labelData(const std::vector<LabeledText>& raw, const Tokenizer& tok, const CorpusSource& src) {
  LabeledData data;
  std::map<std::string, int32_t> ids;
  for (const auto& r : raw) ids[r.label] = 0;
  for (auto& [name, id] : ids) {
    id = int32_t(data.classes.size());
    data.classes.push_back(name);
  }
  if (data.classes.size() < 2)
    return makeError({}, "classification needs at least two labels; the data has " + std::to_string(data.classes.size()));
  for (const auto& r : raw) {
    bool toVal = counterUniform(src.seed ^ 0x5eedULL, fnv1a(r.text)) < src.valFraction;
    (toVal ? data.val : data.train).push_back({tok.encode(r.text), ids[r.label]});
  }
  if (data.train.empty() || data.val.empty())
    return makeError({}, "the labeled data (" + std::to_string(raw.size()) + " examples) is too small for a train/validation split");
  return data;
}

std::vector<ref::Tensor> classifyRows(const std::vector<const LabeledExample*>& examples, const ClassifyLayout& l) {
  const int64_t B = l.batch, T = l.context;
  ref::Tensor ids({DType::I32, {B, T}}), mask({DType::F32, {B, T}}), labels({DType::I32, {B}});
  for (int64_t r = 0; r < B; ++r) {
    std::vector<int32_t> row;
    const LabeledExample* e = r < int64_t(examples.size()) ? examples[size_t(r)] : nullptr;
    if (e) {
      if (l.encoder) row.push_back(l.cls);
      int64_t room = l.encoder ? T - 2 : T;
      for (int64_t i = 0; i < std::min<int64_t>(room, int64_t(e->tokens.size())); ++i) row.push_back(e->tokens[size_t(i)]);
      if (l.encoder) row.push_back(l.sep);
    }
    for (int64_t t = 0; t < T; ++t) {
      bool real = t < int64_t(row.size());
      ids[r * T + t] = real ? row[size_t(t)] : l.pad;
      mask[r * T + t] = real ? 1 : 0;
    }
    labels[r] = e ? e->label : -100;  // a missing example is ignored by the loss and the metrics
  }
  return {ids, mask, labels};
}

Expected<ClozeTemplate> ClozeTemplate::parse(const std::string& text, const Tokenizer& tok) {
  static constexpr std::string_view kText = "{text}", kMask = "[MASK]";
  static_assert(kText.size() == kMask.size(), "one placeholder length serves both");
  size_t t = text.find(kText), m = text.find(kMask);
  if (t == std::string::npos || m == std::string::npos || text.find(kText, t + 1) != std::string::npos ||
      text.find(kMask, m + 1) != std::string::npos)
    return makeError({}, "a cloze template needs exactly one {text} and one [MASK], got \"" + text + "\"");
  ClozeTemplate out;
  out.textFirst = t < m;
  const size_t kPlaceholder = kText.size();
  size_t first = std::min(t, m), second = std::max(t, m);
  auto enc = [&](size_t from, size_t to) { return from < to ? tok.encode(text.substr(from, to - from)) : std::vector<int32_t>{}; };
  out.parts[0] = enc(0, first);
  out.parts[1] = enc(first + kPlaceholder, second);
  out.parts[2] = enc(second + kPlaceholder, text.size());
  return out;
}

std::vector<ref::Tensor> clozeRows(const std::vector<const LabeledExample*>& examples, const ClassifyLayout& l,
                                   const ClozeTemplate& tpl, int32_t maskToken) {
  const int64_t B = l.batch, T = l.context;
  ref::Tensor ids({DType::I32, {B, T}}), mask({DType::F32, {B, T}}), slot({DType::I32, {B}}), labels({DType::I32, {B}});
  for (int64_t r = 0; r < B; ++r) {
    const LabeledExample* e = r < int64_t(examples.size()) ? examples[size_t(r)] : nullptr;
    std::vector<int32_t> row;
    int64_t at = 0;
    if (e) {
      // Decoders end at the slot; encoders hold every part and [CLS] ... [SEP].
      int64_t fixed = int64_t(tpl.parts[0].size() + tpl.parts[1].size()) + 1 +
                      (l.encoder ? 2 + int64_t(tpl.parts[2].size()) : 0);
      int64_t room = std::max<int64_t>(0, T - fixed);
      std::vector<int32_t> text;
      for (int64_t i = 0; i < std::min<int64_t>(room, int64_t(e->tokens.size())); ++i) text.push_back(e->tokens[size_t(i)]);
      auto append = [&](const std::vector<int32_t>& v) {
        for (int32_t x : v) row.push_back(x);
      };
      if (l.encoder) row.push_back(l.cls);
      append(tpl.parts[0]);
      if (tpl.textFirst) append(text);
      else at = int64_t(row.size()), row.push_back(maskToken);
      append(tpl.parts[1]);
      if (tpl.textFirst) at = int64_t(row.size()), row.push_back(maskToken);
      else append(text);
      if (l.encoder) {
        append(tpl.parts[2]);
        row.push_back(l.sep);
      } else {
        row.pop_back();  // a causal LM predicts the slot from the token before it
        at -= 1;
      }
      if (int64_t(row.size()) > T) row.resize(size_t(T));  // only when the template alone is too long
      at = std::min<int64_t>(std::max<int64_t>(at, 0), T - 1);
    }
    for (int64_t t = 0; t < T; ++t) {
      bool real = t < int64_t(row.size());
      ids[r * T + t] = real ? row[size_t(t)] : l.pad;
      mask[r * T + t] = real ? 1 : 0;
    }
    slot[r] = double(at);
    labels[r] = e ? e->label : -100;
  }
  return {ids, mask, slot, labels};
}

}  // namespace kiln
