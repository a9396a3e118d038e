// What kiln reads from disk is checked before it is trusted: a checkpoint's data against the
// CRC-32C it was written with, tensors for inf/NaN, and input paths for their kind (a device
// or a FIFO is refused at once instead of read without end or waited on forever).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "ir/numbers.h"
#include "ir/read_file.h"
#include "runtime/checkpoint/crc32c.h"
#include "runtime/checkpoint/safetensors.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("kiln-integrity-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

SafetensorsFile sample() {
  SafetensorsFile f;
  f.tensors["w"] = ref::Tensor({DType::F32, {2, 3}}, {0.5, -0.25, 1.0, 2.0, -1.5, 0.125});
  f.tensors["step"] = ref::Tensor({DType::I64, {}}, {7});
  f.metadata["kiln.step"] = "7";
  return f;
}

std::string bytesOf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeBytes(const std::string& path, const std::string& b) { std::ofstream(path, std::ios::binary) << b; }

}  // namespace

TEST_CASE("crc32c: the standard check value, hardware and table paths agree") {
  CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK(crc32cHex(crc32c(0, "", 0)) == "00000000");
  std::string text(1000, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = char(i * 7 + 3);
  // Split at every offset: incremental updates give the one-shot value (odd tails included).
  const uint32_t whole = crc32c(0, text.data(), text.size());
  for (size_t cut = 0; cut < 20; ++cut) CHECK(crc32c(crc32c(0, text.data(), cut), text.data() + cut, text.size() - cut) == whole);
}

TEST_CASE("checkpoints carry a checksum of their data, a flipped bit is found on load") {
  TempDir dir;
  const std::string path = dir.file("c.safetensors");
  REQUIRE(writeSafetensors(path, sample()).ok());
  auto back = readSafetensors(path);
  REQUIRE(back.ok());
  CHECK(back->metadata.at(kChecksumKey).size() == 8);
  CHECK(back->tensors.at("w").data == sample().tensors.at("w").data);
  std::string b = bytesOf(path);
  for (size_t at : {b.size() - 1, b.size() - 20}) {  // the exponent byte of a float; the I64
    std::string damaged = b;
    damaged[at] = char(damaged[at] ^ 0x40);
    writeBytes(path, damaged);
    auto r = readSafetensors(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().str().find("does not match the checksum") != std::string::npos);
    CHECK(r.error().loc.file == path);
  }
  // A file without the key (another tool's) is read without the check.
  SafetensorsFile plain = sample();
  REQUIRE(writeSafetensors(path, plain).ok());
  std::string text = bytesOf(path);
  size_t key = text.find(kChecksumKey);
  REQUIRE(key != std::string::npos);
  text.replace(key, 11, "kiln.other_");
  writeBytes(path, text);
  CHECK(readSafetensors(path).ok());
}

TEST_CASE("a checkpoint holding inf or NaN is never written, the previous file stays") {
  TempDir dir;
  const std::string path = dir.file("c.safetensors");
  REQUIRE(writeSafetensors(path, sample()).ok());
  const std::string before = bytesOf(path);
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    SafetensorsFile f = sample();
    f.tensors["w"][4] = bad;
    std::vector<std::pair<std::string, TensorType>> entries;
    for (const auto& [name, t] : f.tensors) entries.emplace_back(name, t.type);
    auto s = writeSafetensors(path, entries, f.metadata, [&](const std::string& n) { return f.tensors.at(n); }, true);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find("tensor 'w' holds") != std::string::npos);
    CHECK(s.error().message.find("at element 4 of 6") != std::string::npos);
    CHECK(bytesOf(path) == before);
    for (const auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().filename() == "c.safetensors");
  }
  CHECK(describeNonFinite(sample().tensors.at("w")).empty());
}

TEST_CASE("input files: devices, FIFOs and directories are refused by kind, without reading") {
  TempDir dir;
  auto zero = readFile("/dev/zero");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().str() == "/dev/zero: error: is a character device, not a regular file");
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto p = readFile(fifo);  // would block forever if it were opened for reading blindly
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message == "is a FIFO (named pipe), not a regular file");
  CHECK(readFile(dir.path.string()).error().message == "is a directory, not a file");
  CHECK(readFile(dir.file("missing")).error().message == "cannot open file: No such file or directory");
  writeBytes(dir.file("big"), std::string(100, 'a'));
  auto big = readFile(dir.file("big"), 10);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message == "is 100 bytes, larger than the 10 bytes an input may have");
  CHECK(readFile(dir.file("big"), 100).ok());
  CHECK(checkReadableFile(fifo).error().message == "is a FIFO (named pipe), not a regular file");
}

TEST_CASE("numbers from text: the whole text, in range, or nothing") {
  CHECK(parseInt64("42") == 42);
  CHECK(parseInt64("-4") == -4);
  for (const char* bad : {"", "4x", " 4", "4 ", "1e3", "99999999999999999999", "+4", "0x10"}) CHECK_FALSE(parseInt64(bad).has_value());
  CHECK(parseFiniteNumber("1e-3") == 1e-3);
  for (const char* bad : {"", "nan", "inf", "1e999", "0.1x", " 1"}) CHECK_FALSE(parseFiniteNumber(bad).has_value());
}

}  // namespace kiln

namespace kiln {

TEST_CASE("outputs never overwrite inputs, however the path is spelled") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kiln-same-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  const std::string in = (dir / "data.txt").string();
  std::ofstream(in) << "x";
  CHECK(sameFile(in, (dir / "sub" / ".." / "data.txt").string()));
  fs::create_hard_link(in, dir / "link.txt");
  CHECK(sameFile(in, (dir / "link.txt").string()));
  CHECK_FALSE(sameFile(in, (dir / "other.txt").string()));
  // Neither exists yet: the same path.
  CHECK(sameFile((dir / "a.st").string(), (dir / "sub" / ".." / "a.st").string()));
  CHECK_FALSE(sameFile((dir / "a.st").string(), (dir / "b.st").string()));
  fs::current_path(dir);
  CHECK(sameFile("a.st", "./a.st"));
  CHECK(sameFile("a.st", (dir / "a.st").string()));
  fs::current_path(fs::temp_directory_path());
  auto s = checkNotAnInput((dir / "link.txt").string(), "checkpoint", {"", in});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "the checkpoint would overwrite an input (" + in + "); choose another path");
  CHECK(checkNotAnInput((dir / "new.st").string(), "checkpoint", {in}).ok());
  fs::remove_all(dir);
}

}  // namespace kiln
