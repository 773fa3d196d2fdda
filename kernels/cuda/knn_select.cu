#include "kernels/cuda/knn_select.h"

#include <cuda_runtime.h>

#include <cmath>
#include <limits>

#include "base/error.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {
namespace {

// (distance, index) order: nearer first, then the lower index.
__device__ __forceinline__ bool before(float d, int64_t i, float other_d, int64_t other_i) {
  return d < other_d || (d == other_d && i < other_i);
}

// Inserts (d, i) into the sorted register list if it belongs there. Every
// index is a compile-time constant after unrolling, so the list stays in
// registers.
template <int K>
__device__ __forceinline__ void insert(float (&dist)[K], int64_t (&index)[K], float d, int64_t i) {
  if (!before(d, i, dist[K - 1], index[K - 1])) return;
#pragma unroll
  for (int s = K - 1; s >= 0; --s) {
    if (s > 0 && before(d, i, dist[s - 1], index[s - 1])) {
      dist[s] = dist[s - 1];
      index[s] = index[s - 1];
    } else {
      dist[s] = d;
      index[s] = i;
      break;
    }
  }
}

// One block per query row. THREADS threads stride over the row's columns,
// each keeping its K nearest; thread 0 also starts from the running list.
// Then a tree of pairwise merges in shared memory leaves the block's K
// nearest in list 0, whose first k are written back.
template <int K, int THREADS>
__global__ void __launch_bounds__(THREADS)
    knn_select_kernel(KnnBlock b, int k, float* best_dist, int64_t* best_index) {
  __shared__ float shared_dist[THREADS][K];
  __shared__ int64_t shared_index[THREADS][K];
  const int64_t row = blockIdx.x;
  const int t = threadIdx.x;
  float dist[K];
  int64_t index[K];
#pragma unroll
  for (int s = 0; s < K; ++s) {
    dist[s] = INFINITY;
    index[s] = INT64_MAX;
  }
  if (t == 0 && b.first_col > 0)
    for (int s = 0; s < k; ++s)
      insert<K>(dist, index, best_dist[row * k + s], best_index[row * k + s]);

  const float* dots = b.dots + row * b.cols;
  const float offset = b.offset[row];
  const int64_t self = b.exclude_self ? b.first_self + row - b.first_col : -1;
  for (int64_t j = t; j < b.cols; j += THREADS) {
    if (j == self) continue;
    const float d = fmaxf(offset + (b.bias[j] + b.scale * dots[j]), 0.f);
    insert<K>(dist, index, d, b.first_col + j);
  }
#pragma unroll
  for (int s = 0; s < K; ++s) {
    shared_dist[t][s] = dist[s];
    shared_index[t][s] = index[s];
  }
  __syncthreads();
  for (int half = THREADS / 2; half > 0; half /= 2) {
    if (t < half) {
      // Merge lists t and t + half (both sorted) into registers, then back.
      int a = 0, c = 0;
#pragma unroll
      for (int s = 0; s < K; ++s) {
        const float da = shared_dist[t][a], dc = shared_dist[t + half][c];
        const int64_t ia = shared_index[t][a], ic = shared_index[t + half][c];
        if (before(da, ia, dc, ic)) {
          dist[s] = da;
          index[s] = ia;
          ++a;
        } else {
          dist[s] = dc;
          index[s] = ic;
          ++c;
        }
      }
    }
    __syncthreads();  // every read of this round before any write
    if (t < half) {
#pragma unroll
      for (int s = 0; s < K; ++s) {
        shared_dist[t][s] = dist[s];
        shared_index[t][s] = index[s];
      }
    }
    __syncthreads();
  }
  if (t < k) {
    best_dist[row * k + t] = shared_dist[0][t];
    best_index[row * k + t] = shared_index[0][t];
  }
}

// Lists of K = 8, 16 or 32: K x THREADS x 12 bytes of shared memory stays
// at 24 KB, and K floats plus K indices per thread fit the registers.
template <int K, int THREADS>
void launch(const KnnBlock& b, int64_t k, float* best_dist, int64_t* best_index, int device) {
  cudaStream_t s = use_device(device);
  knn_select_kernel<K, THREADS>
      <<<unsigned(b.rows), THREADS, 0, s>>>(b, int(k), best_dist, best_index);
  DML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void knn_select(const KnnBlock& b, int64_t k, float* best_dist, int64_t* best_index, int device) {
  DML_CHECK(k >= 1 && k <= kMaxKnnSelect, "cuda::knn_select: k = ", k, " is outside [1, ",
            kMaxKnnSelect, "]");
  DML_CHECK(b.rows <= int64_t(std::numeric_limits<int>::max()), "cuda::knn_select: ", b.rows,
            " query rows in one block; split the queries into chunks");
  if (b.rows == 0) return;
  if (k <= 8) return launch<8, 256>(b, k, best_dist, best_index, device);
  if (k <= 16) return launch<16, 128>(b, k, best_dist, best_index, device);
  launch<32, 64>(b, k, best_dist, best_index, device);
}

}  // namespace dml::cuda
