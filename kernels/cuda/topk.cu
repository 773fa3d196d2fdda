// Top-k as a stable segmented sort of every row by kernels::order_key (the
// key the CPU's comparison sort uses), then the first k of each row gathered.
// CUB's DeviceSegmentedSort picks its own strategy per segment size (warp and
// block sorts in shared memory for short rows, radix passes for long ones),
// and its stability keeps equal keys in index order, which is the CPU's tie
// rule. It sorts whole rows, so it costs O(rows * n) time and memory whatever
// k is: simple and exact, not the fastest for k << n.
#include <cub/device/device_segmented_sort.cuh>

#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/topk.h"
#include "kernels/cuda_runtime/scratch.h"
#include "kernels/value_order.h"

namespace dml::cuda {

namespace {

using grid::first_index;
using grid::grid_stride;

// Keys, in-row indices and the row starts (offsets[r] = r * n, r <= rows).
template <class T>
__global__ void make_keys_kernel(const T* x, kernels::OrderKey<T>* keys, int32_t* idx,
                                 int64_t* offsets, int64_t rows, int64_t n, bool largest) {
  const int64_t total = rows * n;
  for (int64_t e = first_index(); e < total; e += grid_stride()) {
    keys[e] = kernels::order_key(x[e], largest);
    idx[e] = int32_t(e % n);
  }
  for (int64_t r = first_index(); r <= rows; r += grid_stride()) offsets[r] = r * n;
}

// The first k of each sorted row: values read from x itself (the key loses
// -0's sign and NaN's payload), indices widened to i64.
template <class T>
__global__ void take_first_kernel(const T* x, const int32_t* sorted_idx, T* values,
                                  int64_t* indices, int64_t rows, int64_t n, int64_t k) {
  const int64_t total = rows * k;
  for (int64_t e = first_index(); e < total; e += grid_stride()) {
    const int64_t r = e / k, j = e % k;
    const int64_t col = sorted_idx[r * n + j];
    values[e] = x[r * n + col];
    indices[e] = col;
  }
}

}  // namespace

template <class T>
void topk(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n, int64_t k, bool largest,
          int device) {
  if (rows == 0 || k == 0) return;
  DML_CHECK(k <= n, "cuda::topk: k = ", k, " exceeds the row length ", n);
  DML_CHECK(n <= INT32_MAX, "cuda::topk: rows of ", n,
            " elements exceed the 2^31 - 1 this kernel indexes; split the rows");
  using Key = kernels::OrderKey<T>;
  const int64_t total = rows * n;
  cudaStream_t s = use_device(device);
  Scratch keys_in(total * sizeof(Key), device), keys_out(total * sizeof(Key), device);
  Scratch idx_in(total * sizeof(int32_t), device), idx_out(total * sizeof(int32_t), device);
  Scratch offsets((rows + 1) * sizeof(int64_t), device);
  grid::launch(make_keys_kernel<T>, std::max(total, rows + 1), device, x, keys_in.as<Key>(),
               idx_in.as<int32_t>(), offsets.as<int64_t>(), rows, n, largest);
  const int64_t* begin = offsets.as<int64_t>();
  size_t temp_bytes = 0;
  DML_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(
      nullptr, temp_bytes, keys_in.as<const Key>(), keys_out.as<Key>(), idx_in.as<const int32_t>(),
      idx_out.as<int32_t>(), total, rows, begin, begin + 1, s));
  Scratch temp(std::max<size_t>(temp_bytes, 1), device);
  DML_CUDA_CHECK(cub::DeviceSegmentedSort::StableSortPairs(
      temp.as<void>(), temp_bytes, keys_in.as<const Key>(), keys_out.as<Key>(),
      idx_in.as<const int32_t>(), idx_out.as<int32_t>(), total, rows, begin, begin + 1, s));
  grid::launch(take_first_kernel<T>, rows * k, device, x, idx_out.as<const int32_t>(), values,
               indices, rows, n, k);
}

template void topk<float>(const float*, float*, int64_t*, int64_t, int64_t, int64_t, bool, int);
template void topk<double>(const double*, double*, int64_t*, int64_t, int64_t, int64_t, bool, int);

}  // namespace dml::cuda
