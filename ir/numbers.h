// Checked conversions of text to numbers, for every typed value read from text (settings,
// checkpoint metadata, cache metadata, options): the whole text must be the number and it must
// fit, otherwise there is no value (no exception, no silent prefix or wrap-around). Callers
// report the file and key.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

// A decimal integer ("-12"); no sign "+", no spaces, no fraction.
inline std::optional<int64_t> parseInt64(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// A finite decimal number ("0.1", "1e-3").
inline std::optional<double> parseFiniteNumber(std::string_view text) {
  if (text.empty() || text.front() == ' ' || text.front() == '\t') return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace kiln
