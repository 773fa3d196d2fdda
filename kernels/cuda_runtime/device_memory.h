#pragma once
// Device memory and transfers. Plain functions on pointers; no Tensor here.
#include <cstddef>

#include "base/allocator.h"

namespace dml::cuda {

// Number of usable devices; 0 when the runtime reports any error (no driver).
int device_count();
CudaCachingAllocator& caching_allocator(int device);

// Private pools of the caching allocator, for CUDA graphs
// (kernels/cuda_runtime/capture.h): while pool p is in use (use_private_pool(device,
// p); 0 = none), every block handed out belongs to p and returns to p's
// free lists when released, so what a captured graph's kernels read and
// write is never handed to other work while the graph lives.
// release_private_pool gives p's blocks back to everyone.
int new_private_pool(int device);
void use_private_pool(int device, int pool);
void release_private_pool(int device, int pool);

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
