#include "eval/random.h"

#include <cmath>

namespace kiln {

uint64_t mixBits(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double counterUniform(uint64_t seed, uint64_t i) {
  uint64_t h = mixBits(mixBits(seed) ^ i);
  return double(h >> 11) * 0x1.0p-53;
}

double counterNormal(uint64_t seed, uint64_t i) {
  double u1 = 1.0 - counterUniform(seed, 2 * i);  // (0, 1]: log is finite
  double u2 = counterUniform(seed, 2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace kiln
