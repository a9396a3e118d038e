#include "runtime/checkpoint/safetensors.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <filesystem>

#include "ir/parser.h"
#include "runtime/checkpoint/crc32c.h"
#include "runtime/checkpoint/json.h"

namespace kiln {

namespace {

const char* stDType(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

std::optional<DType> fromStDType(const std::string& s) {
  for (DType t : kAllDTypes)
    if (s == stDType(t)) return t;
  return std::nullopt;
}

uint16_t halfBits(double v) {
  float f = float(v);
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  if (std::isnan(v)) return uint16_t(sign | 0x7E00);
  double a = std::fabs(v);
  if (a >= 65520.0) return uint16_t(sign | 0x7C00);
  if (a < std::ldexp(1.0, -14)) return uint16_t(sign | uint32_t(std::nearbyint(a / std::ldexp(1.0, -24))));
  int e;
  double m = std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
  uint32_t mant = uint32_t(std::nearbyint((m * 2 - 1) * 1024));
  uint32_t exp = uint32_t(e - 1 + 15);
  if (mant == 1024) mant = 0, ++exp;
  return uint16_t(sign | (exp << 10) | mant);
}

double fromHalf(uint16_t h) {
  int sign = (h & 0x8000) ? -1 : 1;
  int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  if (exp == 0) return sign * std::ldexp(double(mant), -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1.0 + mant / 1024.0, exp - 15);
}

void encode(const ref::Tensor& t, std::string& out) {
  for (double v : t.data) {
    char buf[8];
    size_t n = size_t(dtypeBytes(t.type.dtype));
    switch (t.type.dtype) {
      case DType::F32: { float f = float(v); std::memcpy(buf, &f, 4); break; }
      case DType::F64: std::memcpy(buf, &v, 8); break;
      case DType::BF16: {
        float f = float(v);
        uint32_t x;
        std::memcpy(&x, &f, 4);
        uint16_t b = uint16_t(x >> 16);  // exact: values are already rounded to bf16
        std::memcpy(buf, &b, 2);
        break;
      }
      case DType::F16: { uint16_t b = halfBits(v); std::memcpy(buf, &b, 2); break; }
      case DType::I32: { int32_t i = int32_t(v); std::memcpy(buf, &i, 4); break; }
      case DType::I64: { int64_t i = int64_t(v); std::memcpy(buf, &i, 8); break; }
      case DType::Bool: buf[0] = v != 0 ? 1 : 0; break;
    }
    out.append(buf, n);
  }
}

double decodeOne(const char* p, DType t) {
  switch (t) {
    case DType::F32: { float f; std::memcpy(&f, p, 4); return f; }
    case DType::F64: { double d; std::memcpy(&d, p, 8); return d; }
    case DType::BF16: {
      uint16_t b;
      std::memcpy(&b, p, 2);
      uint32_t x = uint32_t(b) << 16;
      float f;
      std::memcpy(&f, &x, 4);
      return f;
    }
    case DType::F16: { uint16_t b; std::memcpy(&b, p, 2); return fromHalf(b); }
    case DType::I32: { int32_t i; std::memcpy(&i, p, 4); return i; }
    case DType::I64: { int64_t i; std::memcpy(&i, p, 8); return double(i); }
    case DType::Bool: return p[0] ? 1 : 0;
  }
  return 0;
}

}  // namespace

namespace {

// Temporary files of this target left by writers that died before commit (kill -9, a crash):
// ".NAME.tmp-PID" whose PID no longer runs. A live PID's file is left alone (a PID reused by
// another process only delays the cleanup).
void removeStaleTemporaries(const std::filesystem::path& dir, const std::string& name) {
  namespace fs = std::filesystem;
  const std::string prefix = "." + name + ".tmp-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const std::string pid = file.substr(prefix.size());
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  namespace fs = std::filesystem;
  fs::path target(path_);
  dir_ = (target.has_parent_path() ? target.parent_path() : fs::path(".")).string();
  removeStaleTemporaries(dir_, target.filename().string());
  tmp_ = (fs::path(dir_) / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) error_ = std::string("cannot create a temporary file: ") + std::strerror(errno);
}

Status AtomicFile::ready() const {
  if (error_.empty()) return okStatus();
  return makeError(Location{path_, 0, 0}, error_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());  // never leave a partial file behind
}

void AtomicFile::write(const char* data, size_t size) {
  writeAt(end_, data, size);
  end_ += int64_t(size);
}

void AtomicFile::writeAt(int64_t offset, const char* data, size_t size) {
  while (error_.empty() && size > 0) {
    ssize_t n = ::pwrite(fd_, data, size, off_t(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("cannot write: ") + std::strerror(errno);
      return;
    }
    data += n;
    size -= size_t(n);
    offset += n;
  }
}

Status AtomicFile::commit() {
  if (error_.empty() && ::fsync(fd_) != 0) error_ = std::string("cannot flush to disk: ") + std::strerror(errno);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (error_.empty() && ::rename(tmp_.c_str(), path_.c_str()) != 0)
    error_ = std::string("cannot move the new file into place: ") + std::strerror(errno);
  if (!error_.empty()) return makeError(Location{path_, 0, 0}, error_);
  committed_ = true;
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return okStatus();
}

Status writeFileAtomically(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  return f.commit();
}

Status writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, TensorType>>& entries,
                        const std::map<std::string, std::string>& metadata,
                        const std::function<ref::Tensor(const std::string&)>& tensorOf, bool finiteOnly) {
  // The checksum is known only once the data is written: a placeholder of the same width is
  // written first and overwritten in place before the commit.
  std::map<std::string, std::string> meta = metadata;
  meta[kChecksumKey] = crc32cHex(0);
  std::string header = "{\"__metadata__\":{";
  size_t checksumAt = 0;
  bool f = true;
  for (const auto& [k, v] : meta) {
    header += (f ? "" : ",") + json::quote(k) + ":";
    if (k == kChecksumKey) checksumAt = header.size() + 1;  // after the opening quote
    header += json::quote(v);
    f = false;
  }
  header += "}";
  bool first = false;
  std::vector<std::pair<std::string, TensorType>> sorted = entries;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  int64_t offset = 0;
  for (const auto& [name, type] : sorted) {
    int64_t end = offset + type.numElements() * dtypeBytes(type.dtype);
    header += (first ? "" : ",") + json::quote(name) + ":{\"dtype\":\"" + stDType(type.dtype) + "\",\"shape\":[";
    for (size_t i = 0; i < type.shape.size(); ++i) header += (i ? "," : "") + std::to_string(type.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
    first = false;
  }
  header += "}";
  while (header.size() % 8) header += ' ';  // align the data section
  std::string lead(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) lead[size_t(i)] = char((n >> (8 * i)) & 0xFF);
  AtomicFile out(path);
  if (auto s = out.ready(); !s) return s;
  out.write(lead.data(), lead.size());
  out.write(header.data(), header.size());
  uint32_t crc = 0;
  for (const auto& [name, type] : sorted) {  // one tensor in memory at a time
    ref::Tensor t = tensorOf(name);
    KILN_ASSERT(t.type == type, "tensor '" + name + "' changed type while being written");
    if (finiteOnly)
      if (std::string bad = describeNonFinite(t); !bad.empty())
        return makeError(Location{path, 0, 0}, "not written: tensor '" + name + "' holds " + bad);
    std::string bytes;
    encode(t, bytes);
    crc = crc32c(crc, bytes.data(), bytes.size());
    out.write(bytes.data(), bytes.size());
  }
  const std::string hex = crc32cHex(crc);
  out.writeAt(int64_t(lead.size() + checksumAt), hex.data(), hex.size());
  return out.commit();
}

std::string describeNonFinite(const ref::Tensor& t) {
  if (!isFloat(t.type.dtype)) return "";
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t[i]))
      return formatDouble(t[i]) + " at element " + std::to_string(i) + " of " + std::to_string(t.size());
  return "";
}

Status writeSafetensors(const std::string& path, const SafetensorsFile& file) {
  std::vector<std::pair<std::string, TensorType>> entries;
  for (const auto& [name, t] : file.tensors) entries.emplace_back(name, t.type);
  return writeSafetensors(path, entries, file.metadata, [&](const std::string& name) { return file.tensors.at(name); });
}

Expected<SafetensorsFile> readSafetensors(const std::string& path) {
  auto bytes = readFile(path, int64_t(1) << 40);  // checkpoints may be larger than text inputs
  if (!bytes) return bytes.error();
  return parseSafetensors(*bytes, path);
}

Expected<SafetensorsFile> parseSafetensors(const std::string& b, const std::string& path) {
  auto bad = [&](const std::string& m) { return makeError(Location{path, 0, 0}, "not a valid safetensors file: " + m); };
  if (b.size() < 8) return bad("shorter than its 8-byte header length (truncated?)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(b[size_t(i)])) << (8 * i);
  if (n > b.size() - 8) return bad("the header claims " + std::to_string(n) + " bytes but the file has " + std::to_string(b.size() - 8) + " after the length (truncated?)");
  auto header = json::parse(b.substr(8, n), path);
  if (!header) return bad(header.error().message);
  if (!header->isObject()) return bad("the header is not a JSON object");
  size_t dataStart = 8 + n, dataSize = b.size() - dataStart;
  if (const auto* meta = header->object().count("__metadata__") ? &header->object().at("__metadata__") : nullptr;
      meta && meta->isObject() && meta->object().count(kChecksumKey)) {
    const auto& want = meta->object().at(kChecksumKey);
    std::string got = crc32cHex(crc32c(0, b.data() + dataStart, dataSize));
    if (!want.isString() || want.string() != got)
      return makeError(Location{path, 0, 0}, "damaged file: its tensor data does not match the checksum it was written with (" +
                                                 std::string(kChecksumKey) + " " + (want.isString() ? want.string() : "?") +
                                                 ", computed " + got + "); it was changed or only partly copied");
  }
  SafetensorsFile out;
  for (const auto& [name, entry] : header->object()) {
    if (name == "__metadata__") {
      if (!entry.isObject()) return bad("__metadata__ is not an object");
      for (const auto& [k, v] : entry.object())
        if (v.isString()) out.metadata[k] = v.string();
      continue;
    }
    if (!entry.isObject()) return bad("entry '" + name + "' is not an object");
    const auto& o = entry.object();
    auto parsedType = o.count("dtype") && o.at("dtype").isString() ? fromStDType(o.at("dtype").string()) : std::nullopt;
    if (!parsedType) return bad("tensor '" + name + "' has a missing or unknown dtype");
    const DType dt = *parsedType;
    if (!o.count("shape") || !o.at("shape").isArray() || !o.count("data_offsets") || !o.at("data_offsets").isArray())
      return bad("tensor '" + name + "' lacks shape or data_offsets");
    TensorType type{dt, {}};
    for (const auto& d : o.at("shape").array()) {
      if (!d.isNumber() || d.number() < 0 || d.number() > double(kMaxDim)) return bad("tensor '" + name + "' has a bad shape");
      type.shape.push_back(int64_t(d.number()));
    }
    if (type.rank() > kMaxRank || type.numElements() > ref::kMaxReferenceElements)
      return bad("tensor '" + name + "' is too large");
    const auto& off = o.at("data_offsets").array();
    if (off.size() != 2 || !off[0].isNumber() || !off[1].isNumber()) return bad("tensor '" + name + "' has bad data_offsets");
    double begin = off[0].number(), end = off[1].number();
    double want = double(type.numElements()) * dtypeBytes(dt);
    if (begin < 0 || end < begin || end - begin != want)
      return bad("tensor '" + name + "' has data_offsets that do not match its shape");
    if (end > double(dataSize))
      return bad("tensor '" + name + "' ends at byte " + std::to_string(int64_t(end)) + " of a " + std::to_string(dataSize) + "-byte data section (truncated?)");
    ref::Tensor t(type);
    const char* p = b.data() + dataStart + size_t(begin);
    for (int64_t i = 0; i < t.size(); ++i) t[i] = decodeOne(p + size_t(i) * size_t(dtypeBytes(dt)), dt);
    out.tensors[name] = std::move(t);
  }
  return out;
}

}  // namespace kiln
