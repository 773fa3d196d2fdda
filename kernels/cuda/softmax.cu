// The column tiling of the reductions (kernels/cuda/grid.cuh): each
// quantity over n (max, sum of exps, sum of gradients) is combined across the
// block's rows of threads as a tree in shared memory. For the common last-dim
// softmax (inner 1) the whole block of 256 threads shares one row of n.
#include <cmath>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/softmax.h"
#include "kernels/elementwise_ops.h"

namespace dml::cuda {

namespace {

using grid::kThreads;

struct Tile {
  int64_t o, i;  // outer index, column along inner
  bool active;   // i < inner
  int lane;      // this thread's slot in the block
};

__device__ Tile tile_of(int64_t inner, int64_t inner_tiles) {
  Tile t;
  t.o = blockIdx.x / inner_tiles;
  t.i = (blockIdx.x % inner_tiles) * blockDim.x + threadIdx.x;
  t.active = t.i < inner;
  t.lane = threadIdx.y * blockDim.x + threadIdx.x;
  return t;
}

// Combines the block's rows of `slot` (one value per thread, written by the
// caller) into row 0 with `op`, and returns every thread its column's result.
template <class T, class Op>
__device__ T combine_rows(T* slot, int lane, T mine, Op op) {
  slot[lane] = mine;
  __syncthreads();
  for (unsigned half = blockDim.y / 2; half > 0; half /= 2) {
    if (threadIdx.y < half) slot[lane] = op(slot[lane], slot[lane + half * blockDim.x]);
    __syncthreads();
  }
  T r = slot[threadIdx.x];
  __syncthreads();  // the slots are reused by the next combine
  return r;
}

struct Max {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return kernels::max_of(a, b);  // std::max, as the CPU kernel's scan
  }
};
struct Add {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

template <class T>
__global__ void softmax_kernel(const T* x, T* y, int64_t n, int64_t inner, int64_t inner_tiles,
                               bool log) {
  __shared__ T slot[kThreads];
  const Tile t = tile_of(inner, inner_tiles);
  const int64_t base = t.o * n * inner + t.i;
  // Threads of an inactive column take part in every combine (the
  // __syncthreads inside) but read and write nothing.
  T m = t.active ? x[base] : T(0);
  if (t.active)
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y)
      m = kernels::max_of(m, x[base + j * inner]);
  m = combine_rows(slot, t.lane, m, Max{});
  T s = 0;
  if (t.active)
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y) s += std::exp(x[base + j * inner] - m);
  s = combine_rows(slot, t.lane, s, Add{});
  if (!t.active) return;
  if (log) {
    const T lse = m + std::log(s);
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y)
      y[base + j * inner] = x[base + j * inner] - lse;
  } else {
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y)
      y[base + j * inner] = std::exp(x[base + j * inner] - m) / s;
  }
}

template <class T>
__global__ void softmax_backward_kernel(const T* g, const T* y, T* dx, int64_t n, int64_t inner,
                                        int64_t inner_tiles, bool log) {
  __shared__ T slot[kThreads];
  const Tile t = tile_of(inner, inner_tiles);
  const int64_t base = t.o * n * inner + t.i;
  T s = 0;
  if (t.active)
    for (int64_t j = threadIdx.y; j < n; j += blockDim.y) {
      const int64_t e = base + j * inner;
      s += log ? g[e] : g[e] * y[e];
    }
  s = combine_rows(slot, t.lane, s, Add{});
  if (!t.active) return;
  for (int64_t j = threadIdx.y; j < n; j += blockDim.y) {
    const int64_t e = base + j * inner;
    dx[e] = log ? g[e] - std::exp(y[e]) * s : y[e] * (g[e] - s);
  }
}

}  // namespace

template <class T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log, int device) {
  if (outer == 0 || n == 0 || inner == 0) return;  // no element to write
  const grid::ColumnTiling t = grid::column_tiling("cuda::softmax", outer, inner);
  cudaStream_t s = use_device(device);
  softmax_kernel<T><<<unsigned(t.blocks), t.block, 0, s>>>(x, y, n, inner, t.inner_tiles, log);
  DML_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void softmax_backward(const T* g, const T* y, T* dx, int64_t outer, int64_t n, int64_t inner,
                      bool log, int device) {
  if (outer == 0 || n == 0 || inner == 0) return;
  const grid::ColumnTiling t = grid::column_tiling("cuda::softmax_backward", outer, inner);
  cudaStream_t s = use_device(device);
  softmax_backward_kernel<T>
      <<<unsigned(t.blocks), t.block, 0, s>>>(g, y, dx, n, inner, t.inner_tiles, log);
  DML_CUDA_CHECK(cudaGetLastError());
}

template void softmax<float>(const float*, float*, int64_t, int64_t, int64_t, bool, int);
template void softmax<double>(const double*, double*, int64_t, int64_t, int64_t, bool, int);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t,
                                      bool, int);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t,
                                       int64_t, bool, int);

}  // namespace dml::cuda
