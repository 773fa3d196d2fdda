#include "engine/allocator.h"

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
    return p;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
};
}  // namespace

Allocator& cpu_allocator() {
  static CpuAllocator a;
  return a;
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
