#include "engine/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/error.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/device_memory.h"
#endif

namespace dml {

namespace {
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    if (bytes == 0) return nullptr;
    size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* p = std::aligned_alloc(kCpuAlignment, rounded);
    if (!p)
      throw Error(detail::concat("cpu allocator: out of memory allocating ", bytes, " bytes"));
    size_t now = in_use_.fetch_add(bytes) + bytes;
    size_t peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    allocations_.fetch_add(1);
    return p;
  }
  void deallocate(void* ptr, size_t bytes) override {
    if (!ptr) return;
    in_use_.fetch_sub(bytes);
    std::free(ptr);
  }
  MemoryStats stats() const { return {in_use_.load(), peak_.load(), 0, allocations_.load()}; }
  void reset_peak() { peak_.store(in_use_.load()); }

 private:
  std::atomic<size_t> in_use_{0}, peak_{0};
  std::atomic<uint64_t> allocations_{0};
};

CpuAllocator& the_cpu_allocator() {
  static CpuAllocator a;
  return a;
}
}  // namespace

Allocator& cpu_allocator() { return the_cpu_allocator(); }
MemoryStats cpu_memory_stats() { return the_cpu_allocator().stats(); }
void reset_cpu_peak() { the_cpu_allocator().reset_peak(); }

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
