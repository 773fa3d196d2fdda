#pragma once
// Fills a row-major [rows, cols] device buffer with copies of one row (a
// bias broadcast over a batch before a GEMM accumulates onto it).
#include <cstdint>

namespace dml::cuda {

template <class T>
void repeat_rows(const T* row, T* out, int64_t rows, int64_t cols, int device);

}  // namespace dml::cuda
