// Counter-based random numbers: element i of a stream depends only on (seed, i), so random
// initializers, dropout masks and sampling are reproducible across runs, machines, thread counts
// and backends. The generator is SplitMix64's finalizer applied to (mix(seed) xor i).
#pragma once

#include <cstdint>

namespace kiln {

uint64_t mixBits(uint64_t z);
// Uniform in [0, 1) with 53 random bits.
double counterUniform(uint64_t seed, uint64_t i);
// Standard normal by Box-Muller over the uniforms at 2i and 2i+1.
double counterNormal(uint64_t seed, uint64_t i);

}  // namespace kiln
