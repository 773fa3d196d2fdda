#include "kernels/cuda/scratch.h"

#include "kernels/cuda/device_memory.h"

namespace dml::cuda {

void* scratch_allocate(size_t bytes, int device) {
  return caching_allocator(device).allocate(bytes);
}

void scratch_release(void* p, size_t bytes, int device) {
  caching_allocator(device).deallocate(p, bytes);
}

}  // namespace dml::cuda
