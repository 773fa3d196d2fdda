#pragma once
#include <cstdint>

namespace dml::cpu {

// For each of `rows` rows of length n, the k largest (or smallest) values in
// order and their indices; ties keep the lower index first.
template <class T>
void topk(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n, int64_t k,
          bool largest);

}  // namespace dml::cpu
