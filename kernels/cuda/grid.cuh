#pragma once
// What the element-parallel CUDA kernels share: grid-stride loops launched on
// a device's stream, and the walk of a strided layout (broadcast, transpose)
// merged to its fewest dims. Included by .cu files only.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"
#include "kernels/elementwise_ops.h"

namespace dml::cuda::grid {

constexpr int kThreads = 256;

// Grid-stride loops: one thread per element up to the block cap, then each
// thread takes several. 65535 blocks keep every launch within any device's
// grid limits.
inline int blocks_for(int64_t n) {
  return int(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535));
}

__device__ inline int64_t first_index() {
  return blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
}
__device__ inline int64_t grid_stride() {
  return int64_t(gridDim.x) * blockDim.x;
}

// Queues kernel(args...) on the device's stream for n elements; nothing for
// an empty tensor (a grid of 0 blocks is a launch error).
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), int64_t n, int device, Args... args) {
  if (n == 0) return;
  cudaStream_t s = use_device(device);
  kernel<<<blocks_for(n), kThreads, 0, s>>>(args...);
  DML_CUDA_CHECK(cudaGetLastError());
}

inline int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

inline std::string dims_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// The most dims a walk keeps after merging.
constexpr int kMaxWalkDims = 8;

// A StridedLayout reduced to its fewest dims, in a fixed-size struct that the
// kernel takes by value.
template <size_t K>
struct Walk {
  int ndim;
  int64_t shape[kMaxWalkDims];
  int64_t strides[K][kMaxWalkDims];

  // Offsets of output element i in each input. The outermost dim needs no
  // division, so a flat walk (ndim 1) is one multiply per input.
  __device__ void offsets(int64_t i, int64_t (&off)[K]) const {
    for (size_t k = 0; k < K; ++k) off[k] = 0;
    for (int d = ndim - 1; d > 0; --d) {
      int64_t c = i % shape[d];
      i /= shape[d];
      for (size_t k = 0; k < K; ++k) off[k] += c * strides[k][d];
    }
    if (ndim > 0)
      for (size_t k = 0; k < K; ++k) off[k] += i * strides[k][0];
  }
};

// `what` names the kernel in the error for a layout that keeps too many dims.
template <size_t K>
Walk<K> make_walk(const kernels::StridedLayout<K>& L, const char* what) {
  Walk<K> w{};
  for (size_t d = 0; d < L.shape.size(); ++d) {
    if (L.shape[d] == 1) continue;
    // Dim d continues the previous kept dim when every input's stride there
    // is d's stride times d's extent.
    bool merge = w.ndim > 0;
    for (size_t k = 0; k < K && merge; ++k)
      merge = w.strides[k][w.ndim - 1] == L.strides[k][d] * L.shape[d];
    if (merge) {
      w.shape[w.ndim - 1] *= L.shape[d];
      for (size_t k = 0; k < K; ++k) w.strides[k][w.ndim - 1] = L.strides[k][d];
      continue;
    }
    DML_CHECK(w.ndim < kMaxWalkDims, what, ": output shape ", dims_str(L.shape),
              " with these input strides leaves more than ", kMaxWalkDims,
              " dims after merging, the most a kernel walks; reshape the operands to fewer dims");
    w.shape[w.ndim] = L.shape[d];
    for (size_t k = 0; k < K; ++k) w.strides[k][w.ndim] = L.strides[k][d];
    ++w.ndim;
  }
  return w;
}

// The block shape of the kernels that reduce the middle axis of
// [outer, n, inner] (sums, max/min, softmax): one block per (outer index, tile
// of up to 32 columns along inner), lanes along x reading consecutive inner
// elements (coalesced), the block's other threads along n. Block b covers
// outer index b / inner_tiles and columns (b % inner_tiles) * block.x + x.
struct ColumnTiling {
  dim3 block;
  int64_t inner_tiles, blocks;
};

inline ColumnTiling column_tiling(const char* what, int64_t outer, int64_t inner) {
  unsigned lanes = 1;
  while (lanes < 32 && int64_t(lanes) < inner) lanes *= 2;
  ColumnTiling t{dim3(lanes, kThreads / lanes), (inner + lanes - 1) / lanes, 0};
  t.blocks = outer * t.inner_tiles;
  DML_CHECK(t.blocks <= INT32_MAX, what, ": ", t.blocks,
            " blocks exceed the grid limit; split the tensor along its leading dims");
  return t;
}

// Sums v (N values per thread) over a one-dimensional block of
// kBlockThreads threads (a power of two) in a fixed tree, the same order
// every run; afterwards every thread holds the totals. Every thread of the
// block must call it.
template <int kBlockThreads, class T, int N>
__device__ void block_sum(T (&v)[N]) {
  __shared__ T slot[N][kBlockThreads];
  for (int n = 0; n < N; ++n) slot[n][threadIdx.x] = v[n];
  __syncthreads();
  for (int half = kBlockThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half)
      for (int n = 0; n < N; ++n) slot[n][threadIdx.x] += slot[n][threadIdx.x + half];
    __syncthreads();
  }
  for (int n = 0; n < N; ++n) v[n] = slot[n][0];
  __syncthreads();
}

}  // namespace dml::cuda::grid

// for (int64_t i = this thread's first element; i < n; i += threads in the grid)
#define DML_GRID_STRIDE_LOOP(i, n)                                   \
  for (int64_t i = ::dml::cuda::grid::first_index(); i < int64_t(n); \
       i += ::dml::cuda::grid::grid_stride())
