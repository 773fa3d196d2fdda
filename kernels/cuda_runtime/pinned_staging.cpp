#include "kernels/cuda_runtime/pinned_staging.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/pool_stats.h"
#include "kernels/cuda_runtime/stream.h"

namespace dml::cuda {

namespace {

struct Buffer {
  char* ptr = nullptr;
  cudaEvent_t last_use = nullptr;  // recorded after the last copy that used it
};

class StagingPool {
 public:
  explicit StagingPool(int device) : device_(device) {}

  // An idle buffer whose last copy has finished if there is one, else a new
  // buffer while under the cap, else the longest idle one once its copy ends.
  Buffer acquire() {
    Buffer b;
    bool fresh = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto done = std::find_if(idle_.begin(), idle_.end(), [](const Buffer& x) {
        return cudaEventQuery(x.last_use) == cudaSuccess;
      });
      cudaGetLastError();  // cudaEventQuery's cudaErrorNotReady is not an error
      if (done != idle_.end()) {
        b = *done;
        idle_.erase(done);
      } else if (allocated_ < kStagingBuffers || idle_.empty()) {
        fresh = true;
        ++allocated_;
      } else {
        b = idle_.front();
        idle_.pop_front();
      }
      stats_.handed_out(kStagingChunkBytes, /*reused=*/!fresh);
    }
    if (fresh) {
      try {
        DML_CUDA_CHECK(cudaSetDevice(device_));
        DML_CUDA_CHECK(cudaEventCreateWithFlags(&b.last_use, cudaEventDisableTiming));
        void* p = nullptr;
        DML_CUDA_CHECK(cudaHostAlloc(&p, kStagingChunkBytes, cudaHostAllocPortable));
        b.ptr = static_cast<char*>(p);
      } catch (...) {
        if (b.last_use) cudaEventDestroy(b.last_use);
        std::lock_guard<std::mutex> lock(mu_);
        --allocated_;
        stats_.given_back(kStagingChunkBytes);
        stats_.released(kStagingChunkBytes);
        throw;
      }
    } else {
      DML_CUDA_CHECK(cudaEventSynchronize(b.last_use));
    }
    return b;
  }

  // Back to the pool; `after` (when given) is the stream whose queued copy
  // still reads or writes the buffer.
  void release(Buffer b, cudaStream_t after) {
    if (after) DML_CUDA_CHECK(cudaEventRecord(b.last_use, after));
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(b);
    stats_.given_back(kStagingChunkBytes);
  }

  MemoryStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_.get();
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mu_);
    DML_CUDA_CHECK(cudaSetDevice(device_));
    for (Buffer& b : idle_) {
      DML_CUDA_CHECK(cudaEventSynchronize(b.last_use));
      DML_CUDA_CHECK(cudaFreeHost(b.ptr));
      DML_CUDA_CHECK(cudaEventDestroy(b.last_use));
      stats_.released(kStagingChunkBytes);
    }
    allocated_ -= int(idle_.size());
    idle_.clear();
  }

 private:
  int device_;
  mutable std::mutex mu_;
  std::deque<Buffer> idle_;
  int allocated_ = 0;
  PoolStats stats_;
};

std::mutex g_pools_mu;
std::map<int, std::unique_ptr<StagingPool>>& pools() {
  static std::map<int, std::unique_ptr<StagingPool>> p;
  return p;
}

StagingPool& pool(int device) {
  std::lock_guard<std::mutex> lock(g_pools_mu);
  auto& p = pools()[device];
  if (!p) p = std::make_unique<StagingPool>(device);
  return *p;
}

// Buffers a transfer holds, handed back without a new event if it fails
// midway (the copies already queued keep their recorded events).
struct Held {
  StagingPool& pool;
  std::vector<Buffer> buffers;
  ~Held() {
    for (const Buffer& b : buffers) pool.release(b, nullptr);
  }
};

}  // namespace

void staged_host_to_device(void* dst, const void* src, size_t bytes, int device) {
  StagingPool& p = pool(device);
  cudaStream_t s = use_device(device);
  for (size_t off = 0; off < bytes; off += kStagingChunkBytes) {
    const size_t len = std::min(kStagingChunkBytes, bytes - off);
    Buffer b = p.acquire();  // waits for the buffer's previous copy
    std::memcpy(b.ptr, static_cast<const char*>(src) + off, len);
    cudaError_t status =
        cudaMemcpyAsync(static_cast<char*>(dst) + off, b.ptr, len, cudaMemcpyHostToDevice, s);
    if (status != cudaSuccess) {
      p.release(b, nullptr);
      DML_CUDA_CHECK(status);
    }
    p.release(b, s);
  }
}

void staged_device_to_host(void* dst, const void* src, size_t bytes, int device) {
  StagingPool& p = pool(device);
  cudaStream_t s = use_device(device);
  // Two chunks in flight: the device fills one buffer while the host empties
  // the other.
  Held held{p, {}};
  std::deque<size_t> offsets;
  auto drain_front = [&] {
    Buffer b = held.buffers.front();
    const size_t off = offsets.front(), len = std::min(kStagingChunkBytes, bytes - off);
    DML_CUDA_CHECK(cudaEventSynchronize(b.last_use));
    std::memcpy(static_cast<char*>(dst) + off, b.ptr, len);
    held.buffers.erase(held.buffers.begin());
    offsets.pop_front();
    p.release(b, nullptr);  // its copy has finished
  };
  for (size_t off = 0; off < bytes; off += kStagingChunkBytes) {
    const size_t len = std::min(kStagingChunkBytes, bytes - off);
    held.buffers.push_back(p.acquire());
    offsets.push_back(off);
    Buffer& b = held.buffers.back();
    DML_CUDA_CHECK(cudaMemcpyAsync(b.ptr, static_cast<const char*>(src) + off, len,
                                   cudaMemcpyDeviceToHost, s));
    DML_CUDA_CHECK(cudaEventRecord(b.last_use, s));
    if (held.buffers.size() >= 2) drain_front();
  }
  while (!held.buffers.empty()) drain_front();
}

MemoryStats pinned_staging_stats(int device) {
  return pool(device).stats();
}

void empty_pinned_staging() {
  std::vector<StagingPool*> all;
  {
    std::lock_guard<std::mutex> lock(g_pools_mu);
    for (auto& [device, p] : pools()) all.push_back(p.get());
  }
  for (StagingPool* p : all) p->empty();
}

}  // namespace dml::cuda
