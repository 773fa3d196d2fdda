#include "kernels/cuda_runtime/dnn.h"

#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/device_handle.h"

namespace dml::cuda {

size_t cudnn_version() {
  return cudnnGetVersion();
}

size_t cudnn_header_version() {
  return CUDNN_VERSION;
}

namespace {

void bind_cudnn(cudnnHandle_t* h, cudaStream_t s) {
  DML_CUDNN_CHECK(cudnnCreate(h));
  DML_CUDNN_CHECK(cudnnSetStream(*h, s));
}

}  // namespace

void with_cudnn(int device, const std::function<void(cudnnHandle_t)>& call) {
  DeviceHandle<cudnnHandle_t>& dnn = device_handle(device, bind_cudnn);
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
