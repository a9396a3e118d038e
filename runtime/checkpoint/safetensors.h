// safetensors files (the format Hugging Face tools read): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then
// the raw little-endian data. Writes are atomic (temp file, fsync, rename, fsync of the folder),
// so a crash never leaves a partial checkpoint; reads validate every offset, so a truncated or
// corrupt file is an error naming the file and the problem. kiln writes the CRC-32C of the data
// section into the metadata ("kiln.crc32c") and checks it on every read of a file that has one.
#pragma once

#include <functional>
#include <map>
#include <vector>
#include <string>

#include "ir/diagnostics.h"
#include "eval/tensor.h"

namespace kiln {

struct SafetensorsFile {
  std::map<std::string, ref::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

Status writeSafetensors(const std::string& path, const SafetensorsFile& file);
inline constexpr const char* kChecksumKey = "kiln.crc32c";

// Streams the tensors `entries` names, asking `tensorOf` for one at a time, so a large state
// is never held twice in memory. With `finiteOnly`, a tensor holding inf or NaN stops the
// write before the file is replaced (the error names the tensor and the element).
Status writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, TensorType>>& entries,
                        const std::map<std::string, std::string>& metadata,
                        const std::function<ref::Tensor(const std::string&)>& tensorOf, bool finiteOnly = false);

// The first element of `t` that is inf or NaN ("nan at element 17 of 768"), or "".
std::string describeNonFinite(const ref::Tensor& t);
Expected<SafetensorsFile> readSafetensors(const std::string& path);
// The same from the file's bytes (`path` names it in errors).
Expected<SafetensorsFile> parseSafetensors(const std::string& bytes, const std::string& path);

// A file written to a temporary name and moved into place by commit() after an fsync; if it
// is never committed (an error, an early return), the temporary file is removed. Temporary
// files of the same target left by writers that were killed are removed when the next opens.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const char* data, size_t size);  // errors are kept and reported by commit()
  void writeAt(int64_t offset, const char* data, size_t size);  // overwrites bytes already written
  Status ready() const;                        // whether the temporary file could be created
  Status commit();

 private:
  std::string path_, dir_, tmp_, error_;
  int fd_ = -1;
  int64_t end_ = 0;  // where write() appends
  bool committed_ = false;
};

// Writes `bytes` to `path` atomically.
Status writeFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace kiln
