#pragma once
// Reductions over the middle axis of an [outer, n, inner] view of a
// contiguous device buffer, as kernels/cpu/reduce.h, on the device's stream.
#include <cstdint>

namespace dml::cuda {

// y[o, i] = sum over j of x[o, j, i]; an empty axis (n = 0) sums to 0.
template <class T>
void reduce_sum(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, int device);

// Max (or min) and the first index attaining it, NaN first (the CPU's
// semantics, kernels/value_order.h); y or index may be null; n must be > 0.
template <class T>
void reduce_max(const T* x, T* y, int64_t* index, int64_t outer, int64_t n, int64_t inner,
                bool take_min, int device);

}  // namespace dml::cuda
