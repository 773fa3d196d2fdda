#pragma once
// Temporary device memory for one kernel call (partial sums, sort buffers, a cuDNN
// workspace), from the device's caching allocator (device_memory.h), never a
// cudaMalloc per call. Released when it goes out of scope, possibly before
// the kernels that use it have run: the allocator hands a block out again
// only to work queued later on the same stream, which runs after them.
// Plain C++17 (the .cu files include it; device_memory.h is C++20).
#include <cstddef>

namespace dml::cuda {

class Scratch {
 public:
  Scratch(size_t bytes, int device);  // bytes == 0 gives a null pointer
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  void* get() const { return ptr_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }

 private:
  int device_;
  size_t bytes_;
  void* ptr_;
};

}  // namespace dml::cuda
