#include "kernels/cuda_runtime/device_memory.h"

#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/cuda_runtime/capture.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/pinned_staging.h"
#include "kernels/cuda_runtime/pool_stats.h"
#include "kernels/cuda_runtime/stream.h"

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
    // While a graph is captured, a block comes from its pool's free list,
    // else from the shared one, and is the pool's from then on. Only the
    // capturing thread allocates meanwhile: another thread's tensor would
    // get a block that every replay writes.
    DML_CHECK(!active_pool_ || std::this_thread::get_id() == pool_thread_, "cuda:", device_,
              ": an allocation from another thread while a CUDA graph is being captured on "
              "this device; queue a device's work from the capturing thread");
    void* p = active_pool_ ? take(pools_[active_pool_], size) : nullptr;
    if (!p) p = take(free_, size);
    const bool reused = p != nullptr;
    if (!reused) p = fresh_block(size);
    if (active_pool_) owner_[p] = active_pool_;
    stats_.handed_out(size, reused);
    if (g_poison) DML_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, size, use_device(device_)));
    return p;
  }

  void deallocate(void* ptr, size_t bytes) override {
    if (!ptr) return;
    size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto owned = owner_.find(ptr);
    // A shared block freed while a graph is captured may be read by what the
    // graph recorded before the free: it becomes the pool's, never handed to
    // other work while the graph lives (the capture's own later work may
    // reuse it: the graph runs in order).
    if (owned == owner_.end() && active_pool_) owned = owner_.emplace(ptr, active_pool_).first;
    (owned == owner_.end() ? free_ : pools_[owned->second])[size].push_back(ptr);
    stats_.given_back(size);
  }

  int new_pool() {
    std::lock_guard<std::mutex> lock(mu_);
    return ++last_pool_;
  }
  void use_pool(int pool) {
    std::lock_guard<std::mutex> lock(mu_);
    active_pool_ = pool;
    pool_thread_ = std::this_thread::get_id();
  }
  // The pool's free blocks go back to the shared lists; its blocks still in
  // use go there when released.
  void release_pool(int pool) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, blocks] : pools_[pool])
      free_[size].insert(free_[size].end(), blocks.begin(), blocks.end());
    pools_.erase(pool);
    for (auto it = owner_.begin(); it != owner_.end();)
      it = it->second == pool ? owner_.erase(it) : std::next(it);
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
    DML_CHECK(!active_pool_, "cuda:", device_,
              ": empty_cache while a CUDA graph is being captured (cudaFree would synchronise)");
    release_cached();
  }

 private:
  using FreeLists = std::map<size_t, std::vector<void*>>;

  static void* take(FreeLists& lists, size_t size) {
    auto it = lists.find(size);
    if (it == lists.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    return p;
  }

  // cudaMalloc, after returning the cached blocks to the driver if it fails.
  // During a capture cudaMalloc is allowed only in relaxed mode (it is not
  // stream work), and the cache cannot be emptied (cudaFree synchronises).
  void* fresh_block(size_t size) {
    DML_CUDA_CHECK(cudaSetDevice(device_));
    void* p = nullptr;
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    DML_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    const cudaError_t status = cudaMalloc(&p, size);
    DML_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    if (status == cudaSuccess) return p;
    cudaGetLastError();
    DML_CHECK(!active_pool_, "cuda:", device_, ": out of memory allocating ", size,
              " bytes while a CUDA graph is being captured (the cache cannot be emptied "
              "meanwhile); capture a smaller step or free memory before capturing");
    release_cached();
    DML_CUDA_CHECK(cudaMalloc(&p, size));
    return p;
  }

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
  FreeLists free_;                  // shared
  std::map<int, FreeLists> pools_;  // private, by pool id (a captured graph's)
  std::map<void*, int> owner_;      // blocks of private pools
  int active_pool_ = 0, last_pool_ = 0;
  std::thread::id pool_thread_;  // the thread that set active_pool_
  PoolStats stats_;
};

}  // namespace

void set_poison_allocations(bool on) {
  g_poison = on;
}
bool poison_allocations() {
  return g_poison;
}

namespace {

SizeClassAllocator& size_class_allocator(int device) {
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

}  // namespace

CudaCachingAllocator& caching_allocator(int device) {
  return size_class_allocator(device);
}

int new_private_pool(int device) {
  return size_class_allocator(device).new_pool();
}
void use_private_pool(int device, int pool) {
  size_class_allocator(device).use_pool(pool);
}
void release_private_pool(int device, int pool) {
  size_class_allocator(device).release_pool(pool);
}

// Copies go on the device's stream, ordered after the kernels that produce
// or consume the data (the legacy default stream does not order against the
// engine's non-blocking stream). The host buffer may be reused as soon as a
// copy returns, and a device-to-host copy returns with the data in place.
// Host-to-device copies of every size are staged through pinned buffers
// (kernels/cuda_runtime/pinned_staging.h) and return once the source is staged, the
// DMA still queued: the host never waits for the device to upload a batch's
// labels or an index list (a pageable copy would have to wait for the whole
// stream). Large device-to-host copies are staged in chunks; small ones copy
// directly; both return with the data in place.
void copy_host_to_device(void* dst, const void* src, size_t bytes, int device) {
  check_not_capturing(device, "a host-to-device copy");
  staged_host_to_device(dst, src, bytes, device);
}
void copy_device_to_host(void* dst, const void* src, size_t bytes, int device) {
  check_not_capturing(device, "a device-to-host copy (a read of device memory)");
  if (bytes >= kStagingMinBytes) return staged_device_to_host(dst, src, bytes, device);
  cudaStream_t s = use_device(device);
  DML_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  DML_CUDA_CHECK(cudaStreamSynchronize(s));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, int device) {
  DML_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, use_device(device)));
}

}  // namespace dml::cuda
