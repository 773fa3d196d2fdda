#pragma once
// Softmax and log-softmax over the middle axis of [outer, n, inner] on a CUDA
// device, as kernels/cpu/softmax.h (max subtracted), on the device's stream.
#include <cstdint>

namespace dml::cuda {

template <class T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log, int device);

// softmax:     dx = y * (g - sum(g * y))
// log_softmax: dx = g - exp(y) * sum(g)
template <class T>
void softmax_backward(const T* g, const T* y, T* dx, int64_t outer, int64_t n, int64_t inner,
                      bool log, int device);

}  // namespace dml::cuda
