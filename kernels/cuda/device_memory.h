#pragma once
// Device memory and transfers. Plain functions on pointers; no Tensor here.
#include <cstddef>

#include "engine/allocator.h"

namespace dml::cuda {

// Number of usable devices; 0 when the runtime reports any error (no driver).
int device_count();
CudaCachingAllocator& caching_allocator(int device);

// For tests: when on, every block the caching allocators hand out (fresh or
// reused) is first filled with 0xFF bytes on the device's stream: NaN in f32
// and f64, -1 in integers. An output element a kernel forgets to write then
// fails any comparison instead of passing with a stale value. Off by default
// (it costs one memset per allocation).
void set_poison_allocations(bool on);
bool poison_allocations();

void copy_host_to_device(void* dst, const void* src, size_t bytes, int device);
void copy_device_to_host(void* dst, const void* src, size_t bytes, int device);
void copy_device_to_device(void* dst, const void* src, size_t bytes, int device);

}  // namespace dml::cuda
