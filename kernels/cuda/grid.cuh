#pragma once
// Launch geometry of the one-thread-per-element kernels added with the index,
// random and optimizer kernels: grid-stride loops over an int64 count, at
// most 65535 blocks of 256 threads (each thread takes several elements past
// that), and no launch at all for zero elements (a 0-block grid is an error).
// CUDA only.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda::grid {

constexpr int kThreads = 256;

inline int blocks_for(int64_t n) {
  return int(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535));
}

__device__ inline int64_t first_index() {
  return blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
}
__device__ inline int64_t stride() {
  return int64_t(gridDim.x) * blockDim.x;
}

// Queues kernel(args...) on the device's stream for n elements; nothing when
// n is 0. The kernel loops `for (i = first_index(); i < n; i += stride())`.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), int64_t n, int device, Args... args) {
  if (n <= 0) return;
  cudaStream_t s = use_device(device);
  kernel<<<blocks_for(n), kThreads, 0, s>>>(args...);
  DML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dml::cuda::grid
