#pragma once
// Device memory and transfers. Plain functions on pointers; no Tensor here.
#include <cstddef>

#include "engine/allocator.h"

namespace dml::cuda {

// Number of usable devices; 0 when the runtime reports any error (no driver).
int device_count();
CudaCachingAllocator& caching_allocator(int device);

void copy_host_to_device(void* dst, const void* src, size_t bytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t bytes, int device);
void copy_device_to_device(void* dst, const void* src, size_t bytes, int device);

}  // namespace dml::cuda
