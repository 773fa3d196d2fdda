#pragma once
// Walks every element of a row-major output shape while tracking, for each of
// K inputs, an element offset given by per-dimension strides (stride 0 repeats
// a broadcast dimension, permuted strides read a transpose). The last
// dimension is the inner loop, so offsets are recomputed once per row.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/parallel.h"
#include "kernels/elementwise_ops.h"

namespace dml::cpu {

using kernels::StridedLayout;

// row(out_index, offsets, inner) is called once per row of the last
// dimension: its `inner` outputs start at out_index, and input k's elements
// at offsets[k], L.strides[k].back() apart. Rows run on several threads.
template <size_t K, class F>
void for_each_strided_row(const StridedLayout<K>& L, F&& row_body) {
  const int nd = int(L.shape.size());
  if (nd == 0) {
    row_body(int64_t(0), std::array<int64_t, K>{}, int64_t(1));
    return;
  }
  const int64_t inner = L.shape[nd - 1];
  if (inner == 0) return;
  int64_t rows = 1;
  for (int d = 0; d + 1 < nd; ++d) rows *= L.shape[d];
  parallel_for(
      rows,
      [&](int64_t row) {
        std::array<int64_t, K> off{};
        int64_t rem = row;
        for (int d = nd - 2; d >= 0; --d) {
          int64_t i = rem % L.shape[d];
          rem /= L.shape[d];
          for (size_t k = 0; k < K; ++k) off[k] += i * L.strides[k][d];
        }
        row_body(row * inner, off, inner);
      },
      kParallelGrain / inner);
}

// The stride of input k along the last dimension (0 for a 0-d layout).
template <size_t K>
int64_t inner_stride(const StridedLayout<K>& L, size_t k) {
  return L.shape.empty() ? 0 : L.strides[k].back();
}

// body(out_index, offsets) is called once per output element.
template <size_t K, class F>
void for_each_strided(const StridedLayout<K>& L, F&& body) {
  std::array<int64_t, K> step;
  for (size_t k = 0; k < K; ++k) step[k] = inner_stride(L, k);
  for_each_strided_row(L, [&](int64_t base, std::array<int64_t, K> off, int64_t inner) {
    for (int64_t j = 0; j < inner; ++j) {
      body(base + j, off);
      for (size_t k = 0; k < K; ++k) off[k] += step[k];
    }
  });
}

// Copies x (read through `in_strides`) into the contiguous `out` of `shape`:
// serves broadcast expansion and permutation alike. Element size in bytes.
void strided_copy(const void* x, void* out, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& in_strides, size_t elem_size);

// Copies a [outer, len, inner] block between two tensors that share outer and
// inner extents but differ along one dimension (concat, slicing, narrowing).
void copy_slab(const void* src, int64_t src_dim, int64_t src_start, void* dst, int64_t dst_dim,
               int64_t dst_start, int64_t outer, int64_t len, int64_t inner, size_t elem_size);

}  // namespace dml::cpu
