#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/reduce.h"
#include "kernels/value_order.h"

namespace dml::cuda {

namespace {

using grid::kThreads;

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

// reduce_sum's tiling with a (value, first index) pair per thread: each
// thread scans its js, then the block's rows are merged as a tree, both by
// kernels::replaces, so the result is the CPU's sequential scan's (tested on
// the host in test_cuda_host).
template <class T>
__global__ void reduce_max_kernel(const T* x, T* y, int64_t* index, int64_t n, int64_t inner,
                                  int64_t inner_tiles, bool take_min) {
  __shared__ T best_v[kThreads];
  __shared__ int64_t best_j[kThreads];
  const int64_t o = blockIdx.x / inner_tiles;
  const int64_t i = (blockIdx.x % inner_tiles) * blockDim.x + threadIdx.x;
  const int lane = threadIdx.y * blockDim.x + threadIdx.x;
  T v = 0;
  int64_t j_best = -1;  // -1: this thread saw no element
  if (i < inner) {
    const T* column = x + o * n * inner + i;
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y) {
      T c = column[j * inner];
      if (kernels::replaces(c, j, v, j_best, take_min)) {
        v = c;
        j_best = j;
      }
    }
  }
  best_v[lane] = v;
  best_j[lane] = j_best;
  __syncthreads();
  for (unsigned half = blockDim.y / 2; half > 0; half /= 2) {
    if (threadIdx.y < half) {
      // Rows interleave along n, so either side may hold the lower index.
      const int other = lane + half * blockDim.x;
      if (kernels::replaces(best_v[other], best_j[other], best_v[lane], best_j[lane], take_min)) {
        best_v[lane] = best_v[other];
        best_j[lane] = best_j[other];
      }
    }
    __syncthreads();
  }
  if (threadIdx.y == 0 && i < inner) {
    if (y) y[o * inner + i] = best_v[lane];
    if (index) index[o * inner + i] = best_j[lane];
  }
}

}  // namespace

template <class T>
void reduce_sum(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, int device) {
  if (outer == 0 || inner == 0) return;
  const grid::ColumnTiling t = grid::column_tiling("cuda::reduce_sum", outer, inner);
  cudaStream_t s = use_device(device);
  reduce_sum_kernel<T><<<unsigned(t.blocks), t.block, 0, s>>>(x, y, n, inner, t.inner_tiles);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void reduce_max(const T* x, T* y, int64_t* index, int64_t outer, int64_t n, int64_t inner,
                bool take_min, int device) {
  if (outer == 0 || inner == 0) return;
  DML_CHECK(n > 0, "cuda::reduce_max: cannot reduce over an empty axis (outer ", outer, ", inner ",
            inner, ")");
  const grid::ColumnTiling t = grid::column_tiling("cuda::reduce_max", outer, inner);
  cudaStream_t s = use_device(device);
  reduce_max_kernel<T>
      <<<unsigned(t.blocks), t.block, 0, s>>>(x, y, index, n, inner, t.inner_tiles, take_min);
  DML_CUDA_CHECK(cudaGetLastError());
}

template void reduce_sum<float>(const float*, float*, int64_t, int64_t, int64_t, int);
template void reduce_sum<double>(const double*, double*, int64_t, int64_t, int64_t, int);
template void reduce_max<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, bool,
                                int);
template void reduce_max<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, bool,
                                 int);

}  // namespace dml::cuda
