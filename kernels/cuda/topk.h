#pragma once
// Top-k per row on a CUDA device, as kernels/cpu/topk.h, on the device's
// stream: for each of `rows` rows of length n, the k largest (or smallest)
// values in order and their indices; NaN ranks as the most extreme value and
// ties keep the lower index first (kernels/value_order.h). Rows of any length
// (n < 2^31); k <= n.
#include <cstdint>

namespace dml::cuda {

template <class T>
void topk(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n, int64_t k, bool largest,
          int device);

}  // namespace dml::cuda
