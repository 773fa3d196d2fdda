#pragma once
// How the CPU computes in bf16 off the bf16 dot-product paths: widen the
// operands to f32 (exact: every bf16 is an f32), run the f32 kernel, which
// accumulates in f32, and round its result to bf16 once. That is the
// definition of "bf16 in, f32 accumulate, bf16 out", the exact reference the
// CUDA bf16 kernels and the CPU's avx512_bf16 and amx paths (bf16gemm.h:
// other summation orders, denormals flushed) are measured against. Also the
// buffers bf16 compute keeps its f32 results in.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/dtype.h"
#include "kernels/cpu/elementwise.h"

namespace dml::cpu {

// An f32 buffer of n elements, uninitialised (filled by a widening copy or a
// kernel).
class F32Buffer {
 public:
  explicit F32Buffer(int64_t n) : data_(n > 0 ? new float[size_t(n)] : nullptr) {}
  float* get() const { return data_.get(); }

 private:
  std::unique_ptr<float[]> data_;
};

// Scratch of uninitialised elements, kept by its owner between calls (a
// convolution's: a fresh allocation of that size costs its page faults every
// call, a std::vector's also a fill with zeros). resize(n) makes room for at
// least n elements and leaves their contents unspecified.
template <class T>
class ScratchBuffer {
 public:
  void resize(size_t n) {
    if (n <= size_) return;
    data_.reset(new T[n]);
    size_ = n;
  }
  T* data() const { return data_.get(); }

 private:
  std::unique_ptr<T[]> data_;
  size_t size_ = 0;
};

// out[i] = the bf16 nearest p[i] (ties to even), for n values: the cast
// kernel, on the active path's vector code.
inline void narrow(const float* p, bf16* out, int64_t n) {
  cast<float, bf16>(p, out, n);
}

}  // namespace dml::cpu
