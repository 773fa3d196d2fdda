#include "kernels/cuda/dnn.h"

#include "kernels/cuda/check.h"

namespace dml::cuda {

size_t cudnn_version() {
  return cudnnGetVersion();
}

size_t cudnn_header_version() {
  return CUDNN_VERSION;
}

}  // namespace dml::cuda
