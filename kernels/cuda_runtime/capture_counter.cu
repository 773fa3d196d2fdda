#include "kernels/cuda_runtime/capture.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

__global__ void add_to_counter_kernel(uint64_t* counter, uint64_t amount) {
  *counter += amount;
}

}  // namespace

void add_to_counter(uint64_t* counter, uint64_t amount, int device) {
  add_to_counter_kernel<<<1, 1, 0, use_device(device)>>>(counter, amount);
  DML_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dml::cuda
