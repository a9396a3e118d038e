#include "runtime/checkpoint/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "ir/parser.h"
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

Status writeFileAtomically(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status(makeError(Location{path, 0, 0}, msg));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create a temporary file");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return fail("cannot write");
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail("cannot flush to disk");
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot move the new file into place");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return okStatus();
}

Status writeSafetensors(const std::string& path, const SafetensorsFile& file) {
  std::string header = "{";
  std::string data;
  bool first = true;
  if (!file.metadata.empty()) {
    header += "\"__metadata__\":{";
    bool f = true;
    for (const auto& [k, v] : file.metadata) {
      header += (f ? "" : ",") + json::quote(k) + ":" + json::quote(v);
      f = false;
    }
    header += "}";
    first = false;
  }
  for (const auto& [name, t] : file.tensors) {
    size_t begin = data.size();
    encode(t, data);
    header += (first ? "" : ",") + json::quote(name) + ":{\"dtype\":\"" + stDType(t.type.dtype) + "\",\"shape\":[";
    for (size_t i = 0; i < t.type.shape.size(); ++i) header += (i ? "," : "") + std::to_string(t.type.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
    first = false;
  }
  header += "}";
  while (header.size() % 8) header += ' ';  // align the data section
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) bytes[size_t(i)] = char((n >> (8 * i)) & 0xFF);
  bytes += header;
  bytes += data;
  return writeFileAtomically(path, bytes);
}

Expected<SafetensorsFile> readSafetensors(const std::string& path) {
  auto bytes = readFile(path);
  if (!bytes) return bytes.error();
  const std::string& b = *bytes;
  auto bad = [&](const std::string& m) { return makeError(Location{path, 0, 0}, "not a valid safetensors file: " + m); };
  if (b.size() < 8) return bad("shorter than its 8-byte header length (truncated?)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(b[size_t(i)])) << (8 * i);
  if (n > b.size() - 8) return bad("the header claims " + std::to_string(n) + " bytes but the file has " + std::to_string(b.size() - 8) + " after the length (truncated?)");
  auto header = json::parse(b.substr(8, n), path);
  if (!header) return bad(header.error().message);
  if (!header->isObject()) return bad("the header is not a JSON object");
  size_t dataStart = 8 + n, dataSize = b.size() - dataStart;
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
