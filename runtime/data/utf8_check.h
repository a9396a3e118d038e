// Data files are UTF-8 text (docs/spec.md). Random or binary bytes would otherwise be tokenized
// and trained on without a word, so readers check the text first and name the offending byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ir/diagnostics.h"

namespace kiln {

// The byte offset of the first byte that is not part of well-formed UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF included) or is a NUL, or nothing.
std::optional<size_t> firstInvalidUtf8(std::string_view text);

// An error naming `path`, the line and the byte offset when `text` is not UTF-8 text.
Status checkUtf8Text(std::string_view text, const std::string& path);

}  // namespace kiln
