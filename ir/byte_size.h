// Sizes as people write them in specs and on command lines: "6GiB", "512 MiB", "1.5GB", "4096".
#pragma once

#include <cstdint>
#include <string>

#include "ir/diagnostics.h"

namespace kiln {

// Bytes of `text`: a number and an optional unit, B, KiB, MiB, GiB, TiB (powers of 1024) or
// kB, MB, GB, TB (powers of 1000), in any case; a bare number counts bytes. Errors say what
// was expected; the caller adds where the text came from.
Expected<int64_t> parseByteSize(const std::string& text);

}  // namespace kiln
