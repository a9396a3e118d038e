// Text corpora: files or globs split into documents at separator lines, a deterministic
// train/validation split, tokenization with the end-of-text token between documents, a cache of
// the tokenized streams, and seeded batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/diagnostics.h"
#include "runtime/data/tokenizer.h"
#include "eval/tensor.h"

namespace kiln {

struct CorpusSource {
  std::vector<std::string> files;    // paths or globs (relative ones against baseDir)
  std::vector<std::string> exclude;  // globs over file names
  std::string baseDir = ".";
  std::string separator = "%";
  double valFraction = 0.1;
  uint64_t seed = 1;
};

// The documents of the source, in file order then position. A path that does not exist or a
// glob that matches nothing is an error naming it; so is a corpus without any document.
// The documents of one file's text: runs of lines between lines equal to `separator`
// (documents of only whitespace are dropped).
std::vector<std::string> splitDocuments(const std::string& text, const std::string& separator);
Expected<std::vector<std::string>> readDocuments(const CorpusSource& src);
// The same, grouped by file (path, documents), in file order; no error for an empty file.
Expected<std::vector<std::pair<std::string, std::vector<std::string>>>> readDocumentsByFile(const CorpusSource& src);

struct Corpus {
  std::vector<int32_t> train, val;  // token streams, documents joined by <|endoftext|>
  int64_t trainDocuments = 0, valDocuments = 0;
};

// A document goes to validation when a hash of its text, mixed with the seed, falls below
// valFraction: the split does not depend on file order. The streams are cached under
// `cacheDir` (empty: no cache) keyed by a hash of the documents and the tokenizer.
Expected<Corpus> buildCorpus(const std::vector<std::string>& documents, const Tokenizer& tok,
                             const CorpusSource& src, const std::string& cacheDir);

// Batch `step` of a stream: `batch` windows of `length` tokens at seeded random offsets.
// Deterministic in (seed, step), so the data position is just the step number.
Expected<ref::Tensor> sampleBatch(const std::vector<int32_t>& stream, int64_t batch, int64_t length, uint64_t seed,
                                  uint64_t step);

uint64_t fnv1a(const std::string& bytes, uint64_t h = 1469598103934665603ull);

}  // namespace kiln
