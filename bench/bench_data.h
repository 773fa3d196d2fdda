#pragma once
// Deterministic inputs for every benchmark program (Google Benchmark's and
// the plain ones): identical on every run and for every thread count, so
// timings compare like with like.
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/cpu/random.h"
#include "kernels/storage_math.h"

namespace dml::bench {

// n standard-normal values from a fixed Philox seed, drawn in f32 and stored
// as T (bf16: rounded once).
template <class T = float>
std::vector<T> normal_buffer(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  dml::cpu::fill_normal<float>(v.data(), n, seed, 0);
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else {
    std::vector<T> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = kernels::store<T>(v[i]);
    return out;
  }
}

}  // namespace dml::bench
