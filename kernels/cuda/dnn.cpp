#include "kernels/cuda/dnn.h"

#include <map>
#include <memory>
#include <mutex>

#include "kernels/cuda/check.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda {

size_t cudnn_version() {
  return cudnnGetVersion();
}

size_t cudnn_header_version() {
  return CUDNN_VERSION;
}

namespace {

struct DeviceDnn {
  cudnnHandle_t handle = nullptr;
  std::mutex mu;
};

DeviceDnn& device_dnn(int device) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<DeviceDnn>> per_device;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<DeviceDnn>& dnn = per_device[device];
  if (!dnn) {
    auto made = std::make_unique<DeviceDnn>();
    cudaStream_t s = use_device(device);  // cudnnCreate binds the current device
    DML_CUDNN_CHECK(cudnnCreate(&made->handle));
    DML_CUDNN_CHECK(cudnnSetStream(made->handle, s));
    dnn = std::move(made);
  }
  return *dnn;
}

}  // namespace

void with_cudnn(int device, const std::function<void(cudnnHandle_t)>& call) {
  DeviceDnn& dnn = device_dnn(device);
  std::lock_guard<std::mutex> lock(dnn.mu);
  DML_CUDA_CHECK(cudaSetDevice(device));
  call(dnn.handle);
}

template <class Handle, cudnnStatus_t (*kCreate)(Handle*), cudnnStatus_t (*kDestroy)(Handle)>
CudnnDescriptor<Handle, kCreate, kDestroy>::CudnnDescriptor() {
  DML_CUDNN_CHECK(kCreate(&handle_));
}

template class CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                               cudnnDestroyTensorDescriptor>;
template class CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                               cudnnDestroyFilterDescriptor>;
template class CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                               cudnnDestroyConvolutionDescriptor>;

}  // namespace dml::cuda
