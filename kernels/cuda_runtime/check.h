#pragma once
// Every CUDA runtime, cuBLAS and cuDNN call goes through its check macro,
// which turns a failure into a dml::Error naming the call, file, line and the
// library's own description of the status.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "base/error.h"

namespace dml::cuda {

// The library's name and description of a status.
inline std::string status_text(cudaError_t s) {
  return ::dml::detail::concat(cudaGetErrorName(s), ": ", cudaGetErrorString(s));
}
inline std::string status_text(cublasStatus_t s) {
  return ::dml::detail::concat(cublasGetStatusName(s), ": ", cublasGetStatusString(s));
}
// cuDNN 9 keeps a thread-local message with the details (which argument was
// bad); it is empty when the failure has none to add.
inline std::string status_text(cudnnStatus_t s) {
  char details[512] = {};
  cudnnGetLastErrorString(details, sizeof details);
  return ::dml::detail::concat(cudnnGetErrorString(s), details[0] ? ": " : "", details);
}

// A failed runtime call also leaves its error as the thread's last error,
// which the next launch's cudaGetLastError() check would report as its own
// (a failed graph capture, say, blamed on the next eager kernel): a check
// that throws reads it away first. Sticky errors (a kernel's illegal
// address) stay, whatever is read.
inline void clear_last_error(cudaError_t) {
  (void)cudaGetLastError();
}
inline void clear_last_error(cublasStatus_t) {}
inline void clear_last_error(cudnnStatus_t) {}

}  // namespace dml::cuda

// Evaluates `call` once; throws unless it returned `ok`.
#define DML_LIBRARY_CHECK_(call, ok)                                                          \
  do {                                                                                        \
    auto dml_status_ = (call);                                                                \
    if (dml_status_ != (ok)) {                                                                \
      ::dml::cuda::clear_last_error(dml_status_);                                             \
      throw ::dml::Error(::dml::detail::concat(#call, " failed at ", __FILE__, ":", __LINE__, \
                                               ": ", ::dml::cuda::status_text(dml_status_))); \
    }                                                                                         \
  } while (0)

#define DML_CUDA_CHECK(call) DML_LIBRARY_CHECK_(call, cudaSuccess)
#define DML_CUBLAS_CHECK(call) DML_LIBRARY_CHECK_(call, CUBLAS_STATUS_SUCCESS)
#define DML_CUDNN_CHECK(call) DML_LIBRARY_CHECK_(call, CUDNN_STATUS_SUCCESS)
