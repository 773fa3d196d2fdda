#pragma once
// The allocator interface and its statistics, below both the kernels (the
// CUDA caching allocator implements it) and the engine (which hands one out
// per device: engine/allocator.h). The CPU allocator returns 64-byte-aligned
// blocks (one cache line, the widest SIMD load) and keeps released blocks of
// 1 MiB and more for reuse by requests of the same size. The CUDA caching
// allocator keeps freed blocks in size classes for stream-ordered reuse; its
// statistics are what a memory-minded user asks for.
#include <cstddef>
#include <cstdint>

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

}  // namespace dml
