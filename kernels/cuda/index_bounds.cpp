// The host half of the index bounds check: a one-word result from the
// caching allocator, the search queued on the device's stream, one int64
// copied back.
#include "kernels/cuda/device_memory.h"
#include "kernels/cuda/index.h"

namespace dml::cuda {

int64_t find_out_of_range(const int64_t* index, int64_t count, int64_t n, int device) {
  if (count <= 0) return -1;
  CudaCachingAllocator& alloc = caching_allocator(device);
  constexpr size_t kWord = sizeof(unsigned long long);
  auto* first_bad = static_cast<unsigned long long*>(alloc.allocate(kWord));
  unsigned long long found = 0;
  try {
    queue_find_out_of_range(index, count, n, first_bad, device);
    copy_device_to_host(&found, first_bad, kWord, device);  // waits for the search
  } catch (...) {
    alloc.deallocate(first_bad, kWord);
    throw;
  }
  alloc.deallocate(first_bad, kWord);
  return found == ~0ull ? -1 : int64_t(found);
}

}  // namespace dml::cuda
