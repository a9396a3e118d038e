// CRC-32C (Castagnoli) of byte ranges, the checksum a checkpoint carries over its tensor data
// (metadata "kiln.crc32c"), so a flipped bit or a torn write is found on load instead of
// training on from damaged weights. Uses the SSE4.2 crc32 instruction where the CPU has it
// (several GB/s), a table otherwise; both give the same value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln {

// Extends `crc` (0 to start) by `size` bytes.
uint32_t crc32c(uint32_t crc, const void* data, size_t size);

// Eight lower-case hex digits.
std::string crc32cHex(uint32_t crc);

}  // namespace kiln
