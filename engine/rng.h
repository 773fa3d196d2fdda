#pragma once
// One seeded counter-based generator (Philox4x32-10) for all randomness.
// Element i of a random tensor is a pure function of (seed, offset + i), so
// results do not depend on thread count or device, and a generator's whole
// state is two integers that a checkpoint can save.
#include <array>
#include <cstdint>

namespace dml {

using PhiloxBlock = std::array<uint32_t, 4>;

inline PhiloxBlock philox4x32_10(uint64_t counter, uint64_t key) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0;
    uint64_t p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c1 = uint32_t(p1);
    c3 = uint32_t(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {c0, c1, c2, c3};
}

// Uniform in [0, 1) with 24 (float) or 53 (double) random bits.
inline float uniform_f32(uint32_t a) {
  return float(a >> 8) * (1.0f / 16777216.0f);
}
inline double uniform_f64(uint32_t a, uint32_t b) {
  uint64_t bits = (uint64_t(a) << 21) ^ uint64_t(b >> 11);
  return double(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  void manual_seed(uint64_t seed) { state_ = {seed, 0}; }
  GeneratorState state() const { return state_; }
  void set_state(GeneratorState s) { state_ = s; }
  // Reserves n counters and returns the first; the caller draws block(first + i).
  uint64_t reserve(uint64_t n) {
    uint64_t first = state_.offset;
    state_.offset += n;
    return first;
  }
  uint64_t seed() const { return state_.seed; }

 private:
  GeneratorState state_;
};

// The process-wide generator used when an op is given none.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace dml
