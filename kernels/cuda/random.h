#pragma once
// Random fills on a CUDA device (kernels/cpu/random.h plus the device, on
// whose stream they run). Element i is computed from Philox block
// `first + i` by the same code as the CPU's (kernels/philox.h), so a fill
// equals the CPU fill of the same generator state bit for bit.
#include <cstdint>

namespace dml::cuda {

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t first, int device);
template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t first, int device);
void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high, uint64_t seed, uint64_t first,
                  int device);
template <class T>
void fill_bernoulli(T* out, int64_t n, double p, uint64_t seed, uint64_t first, int device);

}  // namespace dml::cuda
