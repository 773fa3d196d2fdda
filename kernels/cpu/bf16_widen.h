#pragma once
// How the CPU computes in bf16: widen the operands to f32 (exact: every bf16
// is an f32), run the f32 kernel, which accumulates in f32, and round its
// result to bf16 once. That is the definition of "bf16 in, f32 accumulate,
// bf16 out", so the CPU result is the exact reference the CUDA bf16 kernels
// (tensor cores, other summation orders) are measured against. It is slower
// than f32 here (two extra passes over memory); the bf16 path is for the GPU.
#include <cstdint>
#include <memory>

#include "base/dtype.h"
#include "base/parallel.h"

namespace dml::cpu {

// An f32 buffer of n elements, uninitialised (filled by widen or a kernel).
class F32Buffer {
 public:
  explicit F32Buffer(int64_t n) : data_(n > 0 ? new float[size_t(n)] : nullptr) {}
  float* get() const { return data_.get(); }

 private:
  std::unique_ptr<float[]> data_;
};

// An f32 copy of n bf16 values (null in, null out: an absent bias).
inline F32Buffer widen(const bf16* p, int64_t n) {
  F32Buffer out(p ? n : 0);
  float* o = out.get();
  if (p) parallel_for(n, [&](int64_t i) { o[i] = to_float(p[i]); });
  return out;
}

// out[i] = the bf16 nearest p[i] (ties to even), for n values.
inline void narrow(const float* p, bf16* out, int64_t n) {
  parallel_for(n, [&](int64_t i) { out[i] = to_bf16(p[i]); });
}

}  // namespace dml::cpu
