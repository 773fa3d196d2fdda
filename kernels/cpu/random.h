#pragma once
// Random fills from the Philox stream: element i uses counter `first + i`, so
// the values depend only on the generator state, not on threads or device.
// What one element gets is kernels/philox.h, shared with kernels/cuda/random.h.
#include <cstdint>

namespace dml::cpu {

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t first);  // [0, 1)
template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t first);  // N(0, 1), Box-Muller
void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high, uint64_t seed,
                  uint64_t first);  // [low, high)
// 1 with probability p, else 0.
template <class T>
void fill_bernoulli(T* out, int64_t n, double p, uint64_t seed, uint64_t first);

}  // namespace dml::cpu
