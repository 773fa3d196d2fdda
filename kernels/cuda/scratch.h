#pragma once
// Temporary device memory for one kernel call (sort buffers, workspaces),
// from the device's caching allocator (kernels/cuda/device_memory.h). This
// header is C++17 so .cu files can include it (device_memory.h reaches the
// C++20 engine headers).
#include <cstddef>

namespace dml::cuda {

void* scratch_allocate(size_t bytes, int device);
void scratch_release(void* p, size_t bytes, int device);

// A block for the length of a scope. All work of a device is on its stream,
// so the block may go back to the allocator at scope exit while kernels that
// use it are still queued: the next user is ordered after them
// (stream-ordered reuse).
class Scratch {
 public:
  Scratch(size_t bytes, int device)
      : bytes_(bytes), device_(device), p_(scratch_allocate(bytes, device)) {}
  ~Scratch() { scratch_release(p_, bytes_, device_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  template <class U>
  U* as() const {
    return static_cast<U*>(p_);
  }

 private:
  size_t bytes_;
  int device_;
  void* p_;
};

}  // namespace dml::cuda
