#pragma once
// One seeded counter-based generator (Philox4x32-10) for all randomness.
// Element i of a random tensor is a pure function of (seed, offset + i), so
// results do not depend on thread count or device, and a generator's whole
// state is two integers that a checkpoint can save.
#include <cstdint>

#include "base/philox.h"

namespace dml {

// The generator draws through base/philox.h, the transforms the CPU and CUDA
// fills share, so both backends draw the same values.
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
