#include "runtime/trainer/executable.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "ir/parser.h"
#include "runtime/checkpoint/safetensors.h"
#include "runtime/data/corpus.h"

namespace kiln {

namespace {

constexpr char kPayloadMagic[] = "KILNPAY1";
constexpr char kTrailerMagic[] = "KILNEXE1";

void putU32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xFF);
}
void putU64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s += char((v >> (8 * i)) & 0xFF);
}
uint64_t getU(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(s[at + size_t(i)])) << (8 * i);
  return v;
}

}  // namespace

std::string Executable::serialize() const {
  std::string p(kPayloadMagic, 8);
  putU32(p, kVersion);
  for (const auto& [name, bytes] : sections) {
    putU32(p, uint32_t(name.size()));
    p += name;
    putU64(p, bytes.size());
    p += bytes;
  }
  return p;
}

Expected<Executable> Executable::deserialize(const std::string& p, const std::string& origin) {
  auto bad = [&](const std::string& m) { return makeError(Location{origin, 0, 0}, "damaged executable: " + m); };
  if (p.size() < 12 || p.compare(0, 8, kPayloadMagic) != 0) return bad("bad payload magic");
  uint32_t version = uint32_t(getU(p, 8, 4));
  if (version != kVersion)
    return bad("format version " + std::to_string(version) + ", this runtime reads version " + std::to_string(kVersion));
  Executable e;
  size_t at = 12;
  while (at < p.size()) {
    if (p.size() - at < 4) return bad("truncated section header");
    uint32_t n = uint32_t(getU(p, at, 4));
    at += 4;
    if (p.size() - at < size_t(n) + 8) return bad("truncated section name");
    std::string name = p.substr(at, n);
    at += n;
    uint64_t size = getU(p, at, 8);
    at += 8;
    if (size > p.size() - at) return bad("section '" + name + "' runs past the end");
    e.sections[name] = p.substr(at, size);
    at += size;
  }
  for (const char* required : {"module", "config"})
    if (!e.sections.count(required)) return bad(std::string("missing section '") + required + "'");
  return e;
}

std::string Executable::config(const std::string& key, const std::string& fallback) const {
  auto kv = configMap();
  auto it = kv.find(key);
  return it == kv.end() ? fallback : it->second;
}

std::map<std::string, std::string> Executable::configMap() const {
  std::map<std::string, std::string> kv;
  auto it = sections.find("config");
  if (it == sections.end()) return kv;
  std::istringstream in(it->second);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find(" = ");
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return kv;
}

std::string formatConfig(const std::map<std::string, std::string>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) out += k + " = " + v + "\n";
  return out;
}

namespace {

constexpr char kLauncherMagic[] = "KILNLNC1";

struct Layout {
  uint64_t launcher = 0, runtime = 0;  // sizes; launcher 0: a runtime with the payload appended
};

// The launcher trailer of a trainer's bytes, if it has one (checked against the file's size).
Expected<Layout> launcherLayout(const std::string& b, const std::string& path) {
  if (b.size() < 32 || b.compare(b.size() - 8, 8, kLauncherMagic) != 0) return Layout{};
  Layout l{getU(b, b.size() - 32, 8), getU(b, b.size() - 24, 8)};
  uint64_t written = getU(b, b.size() - 16, 8);
  if (written != b.size())
    return makeError(Location{path, 0, 0}, "damaged executable: the file has " + std::to_string(b.size()) + " bytes, " +
                                               std::to_string(written) + " were written (truncated or partly copied)");
  if (l.launcher + l.runtime > b.size()) return makeError(Location{path, 0, 0}, "damaged executable: inconsistent layout");
  return l;
}

}  // namespace

Status writeTrainerBinary(const std::string& launcherBinary, const std::string& runtimeBinary, const Executable& exe,
                          const std::string& outPath) {
  auto launcher = readFile(launcherBinary);
  if (!launcher) return launcher.error();
  auto runtime = readFile(runtimeBinary);
  if (!runtime) return runtime.error();
  // A runtime that is itself a trainer (copied as the runtime) gives its runtime part.
  std::string base = *runtime;
  auto layout = launcherLayout(base, runtimeBinary);
  if (!layout) return layout.error();
  if (layout->launcher > 0) base = base.substr(layout->launcher, layout->runtime);
  if (base.size() >= 24 && base.compare(base.size() - 8, 8, kTrailerMagic) == 0) {
    uint64_t size = getU(base, base.size() - 24, 8);
    if (size <= base.size() - 24) base.resize(base.size() - 24 - size);
  }
  std::string payload = exe.serialize();
  std::string bytes = *launcher + base + payload;
  putU64(bytes, payload.size());
  putU64(bytes, fnv1a(payload));
  bytes.append(kTrailerMagic, 8);
  putU64(bytes, launcher->size());
  putU64(bytes, base.size());
  putU64(bytes, bytes.size() + 16);  // the whole file: this field, and the magic after it
  bytes.append(kLauncherMagic, 8);
  if (auto s = writeFileAtomically(outPath, bytes); !s) return s;
  if (::chmod(outPath.c_str(), 0755) != 0) return makeError(Location{outPath, 0, 0}, "cannot make the trainer executable");
  return okStatus();
}

Expected<Executable> readAppendedExecutable(const std::string& path) {
  auto bytes = readFile(path);
  if (!bytes) return bytes.error();
  std::string& b = *bytes;
  auto bad = [&](const std::string& m) { return makeError(Location{path, 0, 0}, m); };
  auto layout = launcherLayout(b, path);
  if (!layout) return layout.error();
  if (layout->launcher > 0) b.resize(b.size() - 32);
  if (b.size() < 24 || b.compare(b.size() - 8, 8, kTrailerMagic) != 0)
    return bad("no compiled model inside: build a trainer with `kiln compile SPEC -o TRAINER`");
  uint64_t size = getU(b, b.size() - 24, 8), sum = getU(b, b.size() - 16, 8);
  if (size > b.size() - 24) return bad("damaged executable: payload size exceeds the file");
  std::string payload = b.substr(b.size() - 24 - size, size);
  if (fnv1a(payload) != sum) return bad("damaged executable: checksum mismatch");
  return Executable::deserialize(payload, path);
}

std::string trainerFile() {
  const char* file = std::getenv("KILN_TRAINER_FILE");
  return file && *file ? file : "/proc/self/exe";
}

std::string joinConfigList(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "\x1f" : "") + items[i];
  return out;
}

std::vector<std::string> splitConfigList(const std::string& value) {
  std::vector<std::string> out;
  if (value.empty()) return out;  // (a list of one empty item reads back empty)
  for (size_t start = 0;;) {      // n separators: n + 1 items, empty ones included
    size_t end = value.find('\x1f', start);
    out.push_back(value.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

}  // namespace kiln
