// metrics.jsonl: one JSON object per line, written through the JSON library (names quoted,
// non-finite numbers as null), flushed line by line so a killed run keeps every line it logged,
// and every write checked.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ir/diagnostics.h"

namespace kiln {

class MetricsLog {
 public:
  using Number = std::variant<int64_t, double>;
  using Fields = std::vector<std::pair<std::string, Number>>;

  // Truncates the file, or appends to it (a resumed run).
  static Expected<MetricsLog> open(const std::string& path, bool append);
  // One line: {"name": value, ...} in the order given.
  Status write(const Fields& fields);

  // The text of one line without its newline (exposed for tests).
  static std::string format(const Fields& fields);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace kiln
