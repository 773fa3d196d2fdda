#include "kernels/cuda_runtime/scratch.h"

#include "kernels/cuda_runtime/device_memory.h"

namespace dml::cuda {

Scratch::Scratch(size_t bytes, int device)
    : device_(device), bytes_(bytes), ptr_(caching_allocator(device).allocate(bytes)) {}

Scratch::~Scratch() {
  caching_allocator(device_).deallocate(ptr_, bytes_);
}

}  // namespace dml::cuda
