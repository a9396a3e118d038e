// safetensors files (the format Hugging Face tools read): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then
// the raw little-endian data. Writes are atomic (temp file, fsync, rename, fsync of the folder),
// so a crash never leaves a partial checkpoint; reads validate every offset, so a truncated or
// corrupt file is an error naming the file and the problem.
#pragma once

#include <map>
#include <string>

#include "ir/diagnostics.h"
#include "runtime/reference/tensor.h"

namespace kiln {

struct SafetensorsFile {
  std::map<std::string, ref::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

Status writeSafetensors(const std::string& path, const SafetensorsFile& file);
Expected<SafetensorsFile> readSafetensors(const std::string& path);

// Writes `bytes` to `path` atomically.
Status writeFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace kiln
