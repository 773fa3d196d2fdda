#pragma once
// The bookkeeping behind a caching pool's MemoryStats (base/allocator.h),
// kept apart from the CUDA calls so that host-only tests check it: the device
// caching allocator (device_memory.cpp) and the pinned staging pool
// (pinned_staging.cpp) both count through it. Not thread-safe: the pools
// call it under their own lock.
#include <algorithm>
#include <cstddef>

#include "base/allocator.h"

namespace dml::cuda {

class PoolStats {
 public:
  // A block of `bytes` handed out, fresh from the driver or reused from the
  // pool's cache.
  void handed_out(size_t bytes, bool reused) {
    if (reused) s_.bytes_cached -= bytes;
    s_.bytes_in_use += bytes;
    s_.peak_bytes_in_use = std::max(s_.peak_bytes_in_use, s_.bytes_in_use);
    ++s_.allocations;
  }
  // A block given back: kept in the cache for reuse.
  void given_back(size_t bytes) {
    s_.bytes_in_use -= bytes;
    s_.bytes_cached += bytes;
  }
  // Cached blocks of `bytes` in all returned to the driver.
  void released(size_t bytes) { s_.bytes_cached -= bytes; }
  void reset_peak() { s_.peak_bytes_in_use = s_.bytes_in_use; }
  const MemoryStats& get() const { return s_; }

 private:
  MemoryStats s_;
};

}  // namespace dml::cuda
