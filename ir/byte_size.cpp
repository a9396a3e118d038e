#include "ir/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace kiln {

Expected<int64_t> parseByteSize(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return makeError({}, "expected a size such as \"6GiB\", \"512MiB\" or \"1.5GB\", got \"" + text + "\"" + why);
  };
  size_t pos = 0;
  while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) ++pos;
  if (pos == 0) return bad("");
  const std::string number = text.substr(0, pos);
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return bad("");
  while (pos < text.size() && text[pos] == ' ') ++pos;
  std::string unit;
  for (char c : text.substr(pos)) unit += char(std::tolower(static_cast<unsigned char>(c)));
  static const struct {
    const char* name;
    double bytes;
  } kUnits[] = {{"", 1},          {"b", 1},          {"kib", 1024.0},   {"mib", 1048576.0}, {"gib", 1073741824.0},
                {"tib", 1099511627776.0}, {"kb", 1e3}, {"mb", 1e6},     {"gb", 1e9},        {"tb", 1e12}};
  for (const auto& u : kUnits)
    if (unit == u.name) {
      const double bytes = value * u.bytes;
      if (bytes < 1) return bad(" (a size must be at least 1 byte)");
      if (bytes > 9e18) return bad(" (too large)");
      return int64_t(std::llround(bytes));
    }
  return bad(" (units: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)");
}

}  // namespace kiln
