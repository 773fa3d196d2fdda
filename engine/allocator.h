#pragma once
// The allocator of each device (interface and statistics: base/allocator.h).
#include "base/allocator.h"
#include "engine/device.h"

namespace dml {

Allocator& cpu_allocator();
// Bytes held by CPU tensors (rounded to the alignment) now and at most since
// the last reset, and bytes of released large blocks kept for reuse.
MemoryStats cpu_memory_stats();
void reset_cpu_peak();
// Returns the cached blocks to the system.
void empty_cpu_cache();
// Throws when the build has no CUDA backend or no device is present.
CudaCachingAllocator& cuda_allocator(int device);
Allocator& allocator_for(Device d);

}  // namespace dml
