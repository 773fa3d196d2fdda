#include "kernels/cuda/device_memory.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/pinned_staging.h"
#include "kernels/cuda/pool_stats.h"
#include "kernels/cuda/stream.h"

namespace dml::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "insufficient driver" error
    return 0;
  }
  return n;
}

namespace {

std::atomic<bool> g_poison{false};

// Blocks are rounded up to 512 bytes (small) or 2 MiB (large) and kept in
// per-size free lists once released, so a training loop of fixed shapes
// stops calling cudaMalloc after its first step.
size_t round_size(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(2) << 20;
  size_t unit = bytes < kLarge ? kSmall : kLarge;
  return (bytes + unit - 1) / unit * unit;
}

class SizeClassAllocator final : public CudaCachingAllocator {
 public:
  explicit SizeClassAllocator(int device) : device_(device) {}

  void* allocate(size_t bytes) override {
    if (bytes == 0) return nullptr;
    size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    auto it = free_.find(size);
    const bool reused = it != free_.end() && !it->second.empty();
    if (reused) {
      p = it->second.back();
      it->second.pop_back();
    } else {
      DML_CUDA_CHECK(cudaSetDevice(device_));
      if (cudaMalloc(&p, size) != cudaSuccess) {
        cudaGetLastError();
        release_cached();
        DML_CUDA_CHECK(cudaMalloc(&p, size));
      }
    }
    stats_.handed_out(size, reused);
    if (g_poison) DML_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, size, use_device(device_)));
    return p;
  }

  void deallocate(void* ptr, size_t bytes) override {
    if (!ptr) return;
    size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    free_[size].push_back(ptr);
    stats_.given_back(size);
  }

  MemoryStats stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_.get();
  }
  void reset_peak() override {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.reset_peak();
  }
  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached();
  }

 private:
  void release_cached() {
    DML_CUDA_CHECK(cudaSetDevice(device_));
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) {
        DML_CUDA_CHECK(cudaFree(p));
        stats_.released(size);
      }
    free_.clear();
  }

  int device_;
  mutable std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  PoolStats stats_;
};

}  // namespace

void set_poison_allocations(bool on) {
  g_poison = on;
}
bool poison_allocations() {
  return g_poison;
}

CudaCachingAllocator& caching_allocator(int device) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<SizeClassAllocator>> per_device;
  std::lock_guard<std::mutex> lock(mu);
  int n = device_count();
  if (device < 0 || device >= n)
    throw Error(detail::concat("cuda:", device, ": no such CUDA device (", n, " present)"));
  auto& a = per_device[device];
  if (!a) a = std::make_unique<SizeClassAllocator>(device);
  return *a;
}

// Copies go on the device's stream, ordered after the kernels that produce
// or consume the data (the legacy default stream does not order against the
// engine's non-blocking stream). The host buffer may be reused as soon as a
// copy returns, and a device-to-host copy returns with the data in place.
// Host-to-device copies of every size are staged through pinned buffers
// (kernels/cuda/pinned_staging.h) and return once the source is staged, the
// DMA still queued: the host never waits for the device to upload a batch's
// labels or an index list (a pageable copy would have to wait for the whole
// stream). Large device-to-host copies are staged in chunks; small ones copy
// directly; both return with the data in place.
void copy_host_to_device(void* dst, const void* src, size_t bytes, int device) {
  staged_host_to_device(dst, src, bytes, device);
}
void copy_device_to_host(void* dst, const void* src, size_t bytes, int device) {
  if (bytes >= kStagingMinBytes) return staged_device_to_host(dst, src, bytes, device);
  cudaStream_t s = use_device(device);
  DML_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  DML_CUDA_CHECK(cudaStreamSynchronize(s));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, int device) {
  DML_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, use_device(device)));
}

}  // namespace dml::cuda
