#include "engine/inference/workspace_pool.h"

#include <new>

namespace dml::inference {

namespace {

void free_arena(float* p) {
  ::operator delete(p, std::align_val_t(64));
}

}  // namespace

WorkspacePool::Lease WorkspacePool::lease(int64_t batch, int64_t height, int64_t width,
                                          int threads) {
  const Key key{batch, height, width, threads};
  {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(key);
    if (it != idle_.end() && !it->second.empty()) {
      std::unique_ptr<Workspace> w = std::move(it->second.back());
      it->second.pop_back();
      return Lease(*this, std::move(w));
    }
  }
  // A new workspace, planned and allocated outside the lock. The arena is
  // left untouched here: its pages become resident as the layers first use them.
  auto w = std::make_unique<Workspace>();
  w->plan = network_.plan(batch, height, width, threads);
  const size_t bytes = size_t(w->plan.arena_floats) * sizeof(float);
  w->arena = {static_cast<float*>(::operator new(bytes, std::align_val_t(64))), free_arena};
  {
    std::lock_guard lock(mutex_);
    bytes_ += int64_t(bytes);
  }
  return Lease(*this, std::move(w));
}

void WorkspacePool::give_back(std::unique_ptr<Workspace> w) {
  const Plan& p = w->plan;
  std::lock_guard lock(mutex_);
  idle_[Key{p.batch, p.height, p.width, p.threads}].push_back(std::move(w));
}

int64_t WorkspacePool::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace dml::inference
