#pragma once
// Reductions over the middle axis of an [outer, n, inner] view of a
// contiguous buffer: any single dimension of a row-major tensor has this form.
#include <cstdint>

namespace dml::cpu {

template <class T>
void reduce_sum(const T* x, T* y, int64_t outer, int64_t n, int64_t inner);

// Max (or min) and the first index attaining it; y or index may be null.
template <class T>
void reduce_max(const T* x, T* y, int64_t* index, int64_t outer, int64_t n, int64_t inner,
                bool take_min);

}  // namespace dml::cpu
