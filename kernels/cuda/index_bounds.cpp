// The host half of the index bounds check: a one-word result from the
// caching allocator, the search queued on the device's stream, one int64
// copied back.
#include "kernels/cuda/index.h"
#include "kernels/cuda_runtime/device_memory.h"
#include "kernels/cuda_runtime/scratch.h"

namespace dml::cuda {

int64_t find_out_of_range(const int64_t* index, int64_t count, int64_t n, int device) {
  if (count <= 0) return -1;
  Scratch first_bad(sizeof(unsigned long long), device);
  queue_find_out_of_range(index, count, n, first_bad.as<unsigned long long>(), device);
  unsigned long long found = 0;
  copy_device_to_host(&found, first_bad.get(), sizeof found, device);  // waits for the search
  return found == ~0ull ? -1 : int64_t(found);
}

}  // namespace dml::cuda
