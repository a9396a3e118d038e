// The Executable: everything a compiled trainer needs, serialized. A trainer binary is the
// launcher (tools/trainer-launcher: checks the file is whole, then runs the runtime from
// memory), the kiln-trainer runtime, and the Executable:
//   launcher | runtime binary | payload | u64 payload size | u64 FNV-1a of payload | "KILNEXE1"
//     | u64 launcher size | u64 runtime size | u64 file size | "KILNLNC1"
// payload = "KILNPAY1" u32 version, then sections (u32 name length, name, u64 size, bytes).
// Loading checks the magic, version, sizes and checksum, so a damaged file is an error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

struct Executable {
  static constexpr uint32_t kVersion = 1;
  // Sections: "module" (IR text of train_step, eval_step, sample_step after every pass),
  // "config" (key = value lines: training and data settings), "vocab.json", "merges.txt",
  // "plan" (the memory plan summary), "spec" (the source spec text, for reference).
  std::map<std::string, std::string> sections;

  std::string serialize() const;
  static Expected<Executable> deserialize(const std::string& payload, const std::string& origin);

  // config accessors
  std::string config(const std::string& key, const std::string& fallback = "") const;
  std::map<std::string, std::string> configMap() const;
};

std::string formatConfig(const std::map<std::string, std::string>& kv);

// A list in one config value, items separated by the unit separator (any path or text is safe).
std::string joinConfigList(const std::vector<std::string>& items);
std::vector<std::string> splitConfigList(const std::string& value);

// Writes launcher + runtime + the executable to `outPath` (mode 0755), atomically.
Status writeTrainerBinary(const std::string& launcherBinary, const std::string& runtimeBinary, const Executable& exe,
                          const std::string& outPath);
// Reads the executable appended to the trainer at `path` (a trainer reads trainerFile()).
Expected<Executable> readAppendedExecutable(const std::string& path);
// The trainer file this process runs from: the launcher names it in KILN_TRAINER_FILE (the
// runtime itself runs from a memory file); /proc/self/exe without it.
std::string trainerFile();

}  // namespace kiln
