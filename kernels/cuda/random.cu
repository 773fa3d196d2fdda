#include "base/philox.h"
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/random.h"
#include "kernels/cuda_runtime/capture.h"

namespace dml::cuda {

namespace {

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t first) {
  DML_GRID_STRIDE_LOOP(i, n)
  out[i] = uniform_value<T>(philox4x32_10(first + uint64_t(i), seed));
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t first) {
  DML_GRID_STRIDE_LOOP(i, n)
  out[i] = normal_value<T>(philox4x32_10(first + uint64_t(i), seed));
}

__global__ void randint_kernel(int64_t* out, int64_t n, int64_t low, uint64_t span, uint64_t seed,
                               uint64_t first) {
  DML_GRID_STRIDE_LOOP(i, n)
  out[i] = randint_value(philox4x32_10(first + uint64_t(i), seed), low, span);
}

template <class T>
__global__ void bernoulli_kernel(T* out, int64_t n, double p, uint64_t seed, uint64_t first) {
  DML_GRID_STRIDE_LOOP(i, n)
  out[i] = bernoulli_value<T>(philox4x32_10(first + uint64_t(i), seed), p);
}

// A fill's counters come from the host's generator; a captured graph would
// replay the same numbers every time, so fills are refused while capturing.
template <class... Params, class... Args>
void launch_fill(void (*kernel)(Params...), int64_t n, int device, Args... args) {
  check_not_capturing(device, "a random fill (counters drawn from a host generator)");
  grid::launch(kernel, n, device, args...);
}

}  // namespace

template <class T>
void fill_uniform(T* out, int64_t n, uint64_t seed, uint64_t first, int device) {
  launch_fill(uniform_kernel<T>, n, device, out, n, seed, first);
}
template <class T>
void fill_normal(T* out, int64_t n, uint64_t seed, uint64_t first, int device) {
  launch_fill(normal_kernel<T>, n, device, out, n, seed, first);
}
void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high, uint64_t seed, uint64_t first,
                  int device) {
  launch_fill(randint_kernel, n, device, out, n, low, uint64_t(high - low), seed, first);
}
template <class T>
void fill_bernoulli(T* out, int64_t n, double p, uint64_t seed, uint64_t first, int device) {
  launch_fill(bernoulli_kernel<T>, n, device, out, n, p, seed, first);
}

template void fill_uniform<float>(float*, int64_t, uint64_t, uint64_t, int);
template void fill_uniform<double>(double*, int64_t, uint64_t, uint64_t, int);
template void fill_normal<float>(float*, int64_t, uint64_t, uint64_t, int);
template void fill_normal<double>(double*, int64_t, uint64_t, uint64_t, int);
template void fill_bernoulli<float>(float*, int64_t, double, uint64_t, uint64_t, int);
template void fill_bernoulli<double>(double*, int64_t, double, uint64_t, uint64_t, int);

}  // namespace dml::cuda
