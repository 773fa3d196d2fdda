#include "engine/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/error.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda_runtime/device_memory.h"
#endif

namespace dml {

namespace {

// Large blocks are kept after release and handed out again for a request of
// the same rounded size. A training loop of fixed shapes asks for the same
// sizes every step; without the cache every large activation was a fresh
// mmap whose pages the kernel zeroed on first touch (11 % of a ResNet-50
// step in the kernel's clear_page). Small blocks go straight to malloc,
// whose own free lists serve them well.
constexpr size_t kCacheMinBytes = size_t(1) << 20;
constexpr size_t kCacheMaxBytes = size_t(4) << 30;  // past this, releases are freed

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    if (bytes == 0) return nullptr;
    const size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    auto it = cache_.find(rounded);
    if (it != cache_.end() && !it->second.empty()) {
      p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= rounded;
    } else {
      p = std::aligned_alloc(kCpuAlignment, rounded);
      if (!p && stats_.bytes_cached > 0) {
        release_cache();
        p = std::aligned_alloc(kCpuAlignment, rounded);
      }
      if (!p)
        throw Error(detail::concat("cpu allocator: out of memory allocating ", bytes, " bytes"));
    }
    stats_.bytes_in_use += rounded;
    stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
    ++stats_.allocations;
    return p;
  }

  void deallocate(void* ptr, size_t bytes) override {
    if (!ptr) return;
    const size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use -= rounded;
    if (rounded >= kCacheMinBytes && stats_.bytes_cached + rounded <= kCacheMaxBytes) {
      cache_[rounded].push_back(ptr);
      stats_.bytes_cached += rounded;
    } else {
      std::free(ptr);
    }
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_bytes_in_use = stats_.bytes_in_use;
  }
  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cache();
  }

 private:
  void release_cache() {
    for (auto& [size, blocks] : cache_)
      for (void* p : blocks) std::free(p);
    cache_.clear();
    stats_.bytes_cached = 0;
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> cache_;
  MemoryStats stats_;
};

// Never destroyed: tensors held by other static objects may be released
// after this file's statics, and the cached blocks stay reachable (so leak
// checkers do not report them) until the process ends.
CpuAllocator& the_cpu_allocator() {
  static CpuAllocator* a = new CpuAllocator;
  return *a;
}
}  // namespace

Allocator& cpu_allocator() {
  return the_cpu_allocator();
}
MemoryStats cpu_memory_stats() {
  return the_cpu_allocator().stats();
}
void reset_cpu_peak() {
  the_cpu_allocator().reset_peak();
}
void empty_cpu_cache() {
  the_cpu_allocator().empty_cache();
}

CudaCachingAllocator& cuda_allocator(int device) {
#ifdef DML_WITH_CUDA
  return cuda::caching_allocator(device);
#else
  throw Error(detail::concat("cuda:", device,
                             ": this build has no CUDA backend (configure with -DDML_CUDA=ON)"));
#endif
}

Allocator& allocator_for(Device d) {
  if (d.is_cpu()) return cpu_allocator();
  return cuda_allocator(d.index);
}

}  // namespace dml
