#include "runtime/data/corpus.h"

#include <fnmatch.h>
#include <glob.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <iostream>
#include <optional>

#include "ir/numbers.h"
#include "ir/parser.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/data/utf8_check.h"
#include "eval/random.h"

namespace kiln {

uint64_t fnv1a(const std::string& bytes, uint64_t h) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

bool excluded(const std::string& path, const std::vector<std::string>& exclude) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const auto& e : exclude)
    if (::fnmatch(e.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

Expected<std::vector<std::string>> expandFiles(const CorpusSource& src) {
  std::vector<std::string> out;
  int64_t excludedCount = 0;
  for (const auto& f : src.files) {
    std::string pattern = (f.empty() || f[0] == '/') ? f : src.baseDir + "/" + f;
    bool isGlob = pattern.find_first_of("*?[") != std::string::npos;
    if (!isGlob) {
      if (auto s = checkReadableFile(pattern); !s) return makeError(s.error().loc, "data file: " + s.error().message);
      if (!excluded(pattern, src.exclude)) out.push_back(pattern);
      else ++excludedCount;
      continue;
    }
    glob_t g;
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc != 0) {
      if (rc == GLOB_NOMATCH) ::globfree(&g);
      return makeError(Location{pattern, 0, 0}, "data glob matches no file");
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p, ec)) continue;
      if (!excluded(p, src.exclude)) out.push_back(p);
      else ++excludedCount;
    }
    ::globfree(&g);
  }
  if (out.empty() && excludedCount > 0)
    return makeError(Location{}, "data.exclude leaves no data file: it excludes all " + std::to_string(excludedCount) +
                                     " file(s) that data.files names");
  return out;
}

}  // namespace

std::vector<std::string> splitDocuments(const std::string& text, const std::string& separator) {
  std::vector<std::string> docs;
  std::istringstream in(text);
  std::string line, doc;
  auto flush = [&] {
    if (doc.find_first_not_of(" \t\n") != std::string::npos) docs.push_back(doc);
    doc.clear();
  };
  while (std::getline(in, line)) {
    if (line == separator) flush();
    else doc += line + "\n";
  }
  flush();
  return docs;
}

Expected<std::vector<std::string>> readDocuments(const CorpusSource& src) {
  auto files = readDocumentsByFile(src);
  if (!files) return files.error();
  std::vector<std::string> docs;
  for (auto& [path, fileDocs] : *files) docs.insert(docs.end(), fileDocs.begin(), fileDocs.end());
  if (docs.empty()) {
    std::string list;
    for (const auto& f : src.files) list += (list.empty() ? "" : ", ") + f;
    return makeError(Location{}, "the corpus (" + list + ") holds no documents");
  }
  return docs;
}

Expected<std::vector<std::pair<std::string, std::vector<std::string>>>> readDocumentsByFile(const CorpusSource& src) {
  auto files = expandFiles(src);
  if (!files) return files.error();
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& path : *files) {
    std::vector<std::string>& docs = out.emplace_back(path, std::vector<std::string>{}).second;
    auto text = readFile(path);
    if (!text) return text.error();
    if (auto s = checkUtf8Text(*text, path); !s) return s.error();
    docs = splitDocuments(*text, src.separator);
  }
  return out;
}

namespace {

std::optional<Corpus> corpusFromCache(SafetensorsFile& f, int64_t vocab) {
  auto ids = [&](const char* name, std::vector<int32_t>& out) {
    auto t = f.tensors.find(name);
    if (t == f.tensors.end() || t->second.type.dtype != DType::I32 || t->second.type.rank() != 1) return false;
    for (double v : t->second.data) {
      if (!(v >= 0 && v < double(vocab))) return false;
      out.push_back(int32_t(v));
    }
    return true;
  };
  Corpus c;
  auto trainDocs = parseInt64(f.metadata["train_documents"]), valDocs = parseInt64(f.metadata["val_documents"]);
  if (!ids("train", c.train) || !ids("val", c.val) || !trainDocs || !valDocs || *trainDocs < 0 || *valDocs < 0)
    return std::nullopt;
  c.trainDocuments = *trainDocs;
  c.valDocuments = *valDocs;
  return c;
}

}  // namespace

Expected<Corpus> buildCorpus(const std::vector<std::string>& documents, const Tokenizer& tok,
                             const CorpusSource& src, const std::string& cacheDir) {
  uint64_t key = fnv1a(tok.fingerprint());
  key = fnv1a(std::to_string(src.seed) + "/" + std::to_string(src.valFraction), key);
  for (const auto& d : documents) key = fnv1a(d, key) * 31 + d.size();
  std::string cachePath;
  if (!cacheDir.empty()) {
    char name[64];
    std::snprintf(name, sizeof name, "corpus-%016llx.safetensors", static_cast<unsigned long long>(key));
    cachePath = cacheDir + "/" + name;
    std::error_code ec;
    if (std::filesystem::exists(cachePath, ec)) {
      // The cache is used only when it is whole and consistent (checksum, types, ids within
      // the vocabulary, document counts); anything else is rebuilt from the documents.
      auto cached = readSafetensors(cachePath);
      if (auto c = cached ? corpusFromCache(*cached, tok.vocabSize()) : std::nullopt) return *c;
      std::cerr << "note: ignoring the damaged corpus cache " << cachePath << " ("
                << (cached ? "inconsistent contents" : cached.error().message) << "); tokenizing again\n";
    }
  }
  Corpus c;
  for (const auto& d : documents) {
    bool toVal = counterUniform(src.seed ^ 0x5eedULL, fnv1a(d)) < src.valFraction;
    auto& stream = toVal ? c.val : c.train;
    auto ids = tok.encode(d);
    stream.insert(stream.end(), ids.begin(), ids.end());
    stream.push_back(tok.endOfText());
    ++(toVal ? c.valDocuments : c.trainDocuments);
  }
  if (c.trainDocuments == 0 || (src.valFraction > 0 && c.valDocuments == 0))
    return makeError(Location{}, "the corpus has too few documents (" + std::to_string(documents.size()) +
                                     ") for a train/validation split");
  if (!cachePath.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(cacheDir, ec);
    SafetensorsFile f;
    auto toTensor = [](const std::vector<int32_t>& s) {
      ref::Tensor t({DType::I32, {int64_t(s.size())}});
      for (size_t i = 0; i < s.size(); ++i) t[int64_t(i)] = s[i];
      return t;
    };
    f.tensors["train"] = toTensor(c.train);
    f.tensors["val"] = toTensor(c.val);
    f.metadata["train_documents"] = std::to_string(c.trainDocuments);
    f.metadata["val_documents"] = std::to_string(c.valDocuments);
    (void)writeSafetensors(cachePath, f);  // a cache that cannot be written only costs time
  }
  return c;
}

Expected<ref::Tensor> sampleBatch(const std::vector<int32_t>& stream, int64_t batch, int64_t length, uint64_t seed,
                                  uint64_t step) {
  if (int64_t(stream.size()) < length + 1)
    return makeError(Location{}, "the token stream (" + std::to_string(stream.size()) + " tokens) is shorter than one window of " +
                                     std::to_string(length) + " tokens");
  ref::Tensor t({DType::I32, {batch, length}});
  uint64_t span = uint64_t(int64_t(stream.size()) - length + 1);
  for (int64_t b = 0; b < batch; ++b) {
    uint64_t start = uint64_t(counterUniform(seed, step * uint64_t(batch) + uint64_t(b)) * double(span));
    for (int64_t i = 0; i < length; ++i) t[b * length + i] = stream[size_t(start) + size_t(i)];
  }
  return t;
}

}  // namespace kiln
