#pragma once
// cuDNN, the library behind the CUDA convolutions: which library the process
// loaded (so a mismatch between the headers built against and the shared
// library found at run time - cuDNN installed twice: the toolkit's and
// PyTorch's wheel - shows up before any convolution runs), each device's
// handle, and owning wrappers for the descriptors.
#include <cudnn.h>

#include <cstddef>
#include <functional>

namespace dml::cuda {

// Version of the loaded libcudnn, as major * 10000 + minor * 100 + patch.
size_t cudnn_version();
// Version of the cudnn.h this build was compiled with, in the same form.
size_t cudnn_header_version();

// Runs call(handle) with the device current and its cuDNN handle locked
// against other threads. One handle per device, created on first use, bound
// to the device's stream (stream.h) and kept for the process's lifetime, so
// cuDNN's kernels run in issue order with every other kernel of the device.
void with_cudnn(int device, const std::function<void(cudnnHandle_t)>& call);

// A cuDNN descriptor owned for one scope: created by the constructor
// (status checked), destroyed by the destructor. Move-free and copy-free:
// descriptors live on the stack of the call that fills them.
template <class Handle, cudnnStatus_t (*kCreate)(Handle*), cudnnStatus_t (*kDestroy)(Handle)>
class CudnnDescriptor {
 public:
  CudnnDescriptor();
  ~CudnnDescriptor() { kDestroy(handle_); }  // a destructor cannot throw; destroy does not fail
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                                         cudnnDestroyTensorDescriptor>;
using FilterDescriptor = CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                                         cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                    cudnnDestroyConvolutionDescriptor>;

}  // namespace dml::cuda
