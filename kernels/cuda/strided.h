#pragma once
// The element-moving kernels of the shape ops on a CUDA device: the CPU
// kernels' signatures (kernels/cpu/strided.h) plus the device, on whose
// stream they run without waiting. Pointers are device memory; elements are
// moved as raw bytes of elem_size (1, 2, 4 or 8).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dml::cuda {

// Copies x (read through `in_strides`, in elements) into the contiguous `out`
// of `shape`: broadcast expansion (stride 0) and permutation alike. The
// layout is merged to its fewest dims first; more than 8 left is an error.
void strided_copy(const void* x, void* out, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& in_strides, size_t elem_size, int device);

// Copies a [outer, len, inner] block between two tensors that share outer and
// inner extents but differ along one dimension (concat, narrowing).
void copy_slab(const void* src, int64_t src_dim, int64_t src_start, void* dst, int64_t dst_dim,
               int64_t dst_start, int64_t outer, int64_t len, int64_t inner, size_t elem_size,
               int device);

}  // namespace dml::cuda
