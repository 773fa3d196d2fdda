#include "kernels/cuda_runtime/stream.h"

#include <map>
#include <mutex>

#include "kernels/cuda_runtime/capture.h"
#include "kernels/cuda_runtime/check.h"

namespace dml::cuda {

cudaStream_t stream(int device) {
  static std::mutex mu;
  static std::map<int, cudaStream_t> streams;
  std::lock_guard<std::mutex> lock(mu);
  auto it = streams.find(device);
  if (it != streams.end()) return it->second;
  DML_CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t s = nullptr;
  DML_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  streams.emplace(device, s);
  return s;
}

cudaStream_t use_device(int device) {
  DML_CUDA_CHECK(cudaSetDevice(device));
  return stream(device);
}

void synchronize(int device) {
  check_not_capturing(device, "a wait for the device");
  DML_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

}  // namespace dml::cuda
