#pragma once
// Memory comes from an Allocator per device. The CPU allocator returns
// 64-byte-aligned blocks (one cache line, the widest SIMD load) and keeps
// released blocks of 1 MiB and more for reuse by requests of the same size. The CUDA
// caching allocator keeps freed blocks in size classes for stream-ordered
// reuse; its statistics are what a memory-minded user asks for.
#include <cstddef>
#include <cstdint>

#include "engine/device.h"

namespace dml {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
};

struct MemoryStats {
  size_t bytes_in_use = 0;
  size_t peak_bytes_in_use = 0;
  size_t bytes_cached = 0;  // freed but held for reuse
  uint64_t allocations = 0;
};

class CudaCachingAllocator : public Allocator {
 public:
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
  virtual void empty_cache() = 0;  // returns cached blocks to the driver
};

constexpr size_t kCpuAlignment = 64;

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
