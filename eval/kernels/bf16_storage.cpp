#include "eval/kernels/bf16_storage.h"

#include <cstring>

namespace kiln {

void roundToBf16(const float* from, uint16_t* to, int64_t n) {
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(from);
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = bits[i];
    const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);  // ties to even at bit 16
    to[i] = nan ? uint16_t((u >> 16) | 0x40u) : uint16_t(rounded >> 16);
  }
}

void widenBf16(const uint16_t* from, float* to, int64_t n) {
  uint32_t* bits = reinterpret_cast<uint32_t*>(to);
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) bits[i] = uint32_t(from[i]) << 16;
}

}  // namespace kiln
