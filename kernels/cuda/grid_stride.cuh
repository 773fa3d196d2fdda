#pragma once
// Grid-stride loops for kernels with one thread per element: one thread per
// element up to a cap of blocks, then each thread takes several. The cap
// keeps gridDim.x far below its limit and a launch cheap for any size.
#include <algorithm>
#include <cstdint>

namespace dml::cuda {

constexpr int kGridThreads = 256;

// Blocks for n elements; n must be positive (a 0-block launch is an error).
inline unsigned grid_blocks(int64_t n) {
  return unsigned(std::min<int64_t>((n + kGridThreads - 1) / kGridThreads, 65535));
}

}  // namespace dml::cuda

// for (int64_t i = first element of this thread; i < n; i += threads in the grid)
#define DML_GRID_STRIDE_LOOP(i, n)                                                 \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < int64_t(n); \
       i += int64_t(gridDim.x) * blockDim.x)
