#include "kernels/cuda/check.h"
#include "kernels/cuda/fill.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda {

__global__ void fill32_kernel(uint32_t* dst, size_t n, uint32_t value) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    dst[i] = value;
}

void fill32(void* dst, size_t n, uint32_t value, int device) {
  if (n == 0) return;
  cudaStream_t s = use_device(device);
  int threads = 256;
  int blocks = int(std::min<size_t>((n + threads - 1) / threads, 65535));
  fill32_kernel<<<blocks, threads, 0, s>>>(static_cast<uint32_t*>(dst), n, value);
  DML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dml::cuda
