#pragma once
// Planned workspaces of one Network, shared by the threads that run it. A
// call leases a workspace for its input shape and thread count (an idle one,
// or a new one planned and allocated), runs without locks, and the lease
// gives it back when it ends. The mutex guards the pool only; N threads
// running at once hold at most N workspaces per shape.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "engine/inference/network.h"

namespace dml::inference {

struct Workspace {
  Plan plan;
  std::unique_ptr<float[], void (*)(float*)> arena{nullptr, nullptr};  // 64-byte aligned
};

class WorkspacePool {
 public:
  explicit WorkspacePool(const Network& network) : network_(network) {}

  class Lease {
   public:
    Lease(WorkspacePool& pool, std::unique_ptr<Workspace> w) : pool_(&pool), w_(std::move(w)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (w_) pool_->give_back(std::move(w_));
    }
    Workspace& operator*() const { return *w_; }
    Workspace* operator->() const { return w_.get(); }

   private:
    WorkspacePool* pool_;
    std::unique_ptr<Workspace> w_;
  };

  // Plans (and may throw dml::Error) before anything is allocated.
  Lease lease(int64_t batch, int64_t height, int64_t width, int threads);
  // Bytes of every workspace this pool holds, idle or leased.
  int64_t bytes() const;

 private:
  using Key = std::tuple<int64_t, int64_t, int64_t, int>;
  void give_back(std::unique_ptr<Workspace> w);

  const Network& network_;
  mutable std::mutex mutex_;
  std::map<Key, std::vector<std::unique_ptr<Workspace>>> idle_;
  int64_t bytes_ = 0;
};

}  // namespace dml::inference
