#include "runtime/data/utf8_check.h"

#include <algorithm>
#include <cstdio>

namespace kiln {

std::optional<size_t> firstInvalidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

Status checkUtf8Text(std::string_view text, const std::string& path) {
  auto at = firstInvalidUtf8(text);
  if (!at) return okStatus();
  const int line = int(std::count(text.begin(), text.begin() + long(*at), '\n')) + 1;
  const size_t lineStart = text.rfind('\n', *at == 0 ? 0 : *at - 1);
  const int col = int(*at - (lineStart == std::string_view::npos || *at == 0 ? 0 : lineStart + 1)) + 1;
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", unsigned(static_cast<unsigned char>(text[*at])));
  return makeError(Location{path, line, col}, std::string("not UTF-8 text: ") + (text[*at] == 0 ? "a NUL byte" : "byte " + std::string(byte)) +
                                                " at offset " + std::to_string(*at) +
                                                " (data files must be UTF-8 text; is this a binary file?)");
}

}  // namespace kiln
