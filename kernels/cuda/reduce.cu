#include "kernels/cuda/check.h"
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda {

namespace {

constexpr int kThreads = 256;

// One block per (outer index, tile of blockDim.x outputs along inner). Lanes
// along x read consecutive inner elements (coalesced); the blockDim.y rows of
// threads split the n axis, and their partial sums are added as a tree.
template <class T>
__global__ void reduce_sum_kernel(const T* x, T* y, int64_t n, int64_t inner, int64_t inner_tiles) {
  __shared__ T partial[kThreads];
  const int64_t o = blockIdx.x / inner_tiles;
  const int64_t i = (blockIdx.x % inner_tiles) * blockDim.x + threadIdx.x;
  const int lane = threadIdx.y * blockDim.x + threadIdx.x;
  T acc = 0;
  if (i < inner) {
    const T* column = x + o * n * inner + i;
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y) acc += column[j * inner];
  }
  partial[lane] = acc;
  __syncthreads();
  for (unsigned half = blockDim.y / 2; half > 0; half /= 2) {
    if (threadIdx.y < half) partial[lane] += partial[lane + half * blockDim.x];
    __syncthreads();
  }
  if (threadIdx.y == 0 && i < inner) y[o * inner + i] = partial[lane];
}

}  // namespace

template <class T>
void reduce_sum(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, int device) {
  if (outer == 0 || inner == 0) return;
  // Up to 32 lanes along inner (a power of two), the rest of the block along n.
  unsigned lanes = 1;
  while (lanes < 32 && int64_t(lanes) < inner) lanes *= 2;
  const dim3 block(lanes, kThreads / lanes);
  const int64_t inner_tiles = (inner + lanes - 1) / lanes, blocks = outer * inner_tiles;
  DML_CHECK(blocks <= INT32_MAX, "cuda::reduce_sum: ", blocks,
            " blocks exceed the grid limit; reduce in smaller parts");
  cudaStream_t s = use_device(device);
  reduce_sum_kernel<T><<<unsigned(blocks), block, 0, s>>>(x, y, n, inner, inner_tiles);
  DML_CUDA_CHECK(cudaGetLastError());
}

template void reduce_sum<float>(const float*, float*, int64_t, int64_t, int64_t, int);
template void reduce_sum<double>(const double*, double*, int64_t, int64_t, int64_t, int);

}  // namespace dml::cuda
