#include <algorithm>

#include "base/dtype.h"
#include "kernels/cuda/repeat_rows.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

template <class T>
__global__ void repeat_rows_kernel(const T* row, T* out, int64_t total, int64_t cols) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    out[e] = row[e % cols];
}

}  // namespace

template <class T>
void repeat_rows(const T* row, T* out, int64_t rows, int64_t cols, int device) {
  const int64_t total = rows * cols;
  if (total == 0) return;
  constexpr int kThreads = 256;
  const int blocks = int(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535));
  cudaStream_t s = use_device(device);
  repeat_rows_kernel<T><<<blocks, kThreads, 0, s>>>(row, out, total, cols);
  DML_CUDA_CHECK(cudaGetLastError());
}

template void repeat_rows<float>(const float*, float*, int64_t, int64_t, int);
template void repeat_rows<double>(const double*, double*, int64_t, int64_t, int);
template void repeat_rows<bf16>(const bf16*, bf16*, int64_t, int64_t, int);

}  // namespace dml::cuda
