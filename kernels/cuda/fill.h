#pragma once
// Fills on the device: a tensor of one repeated value is written by a kernel,
// not uploaded from the host (so constants made inside a captured CUDA graph
// are part of it, and a large one costs no transfer).
#include <cstddef>
#include <cstdint>

namespace dml::cuda {

// Sets n elements of elem_bytes (1, 2, 4 or 8) bytes each to the low
// elem_bytes bytes of `pattern` (the value's bits in the element's type).
void fill_pattern(void* dst, size_t n, size_t elem_bytes, uint64_t pattern, int device);

}  // namespace dml::cuda
