// Shape ops move elements as unsigned integers of the element's size, so one
// instantiation per size serves every dtype.
#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/strided.h"

namespace dml::cuda {

namespace {

using grid::first_index;
using grid::grid_stride;

template <class U>
__global__ void strided_copy_kernel(const U* x, U* out, int64_t n, grid::Walk<1> w) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t o[1];
    w.offsets(i, o);
    out[i] = x[o[0]];
  }
}

// Element e of the [outer, len * inner] block: row o = e / row, column
// c = e % row; rows start at (o * dim + start) * inner in each tensor.
template <class U>
__global__ void copy_slab_kernel(const U* src, int64_t src_dim, int64_t src_start, U* dst,
                                 int64_t dst_dim, int64_t dst_start, int64_t total, int64_t row,
                                 int64_t inner) {
  for (int64_t e = first_index(); e < total; e += grid_stride()) {
    const int64_t o = e / row, c = e % row;
    dst[(o * dst_dim + dst_start) * inner + c] = src[(o * src_dim + src_start) * inner + c];
  }
}

// Calls f(U{}) with the unsigned type of elem_size bytes.
template <class F>
void by_size(const char* what, size_t elem_size, F&& f) {
  switch (elem_size) {
    case 1:
      return f(uint8_t{});
    case 2:
      return f(uint16_t{});
    case 4:
      return f(uint32_t{});
    case 8:
      return f(uint64_t{});
  }
  throw Error(
      detail::concat(what, ": element size ", elem_size, " bytes is not supported (1, 2, 4 or 8)"));
}

}  // namespace

void strided_copy(const void* x, void* out, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& in_strides, size_t elem_size, int device) {
  const int64_t n = grid::numel(shape);
  if (n == 0) return;
  kernels::StridedLayout<1> L{shape, {in_strides}};
  grid::Walk<1> w = grid::make_walk(L, "cuda::strided_copy");
  by_size("cuda::strided_copy", elem_size, [&](auto u) {
    using U = decltype(u);
    grid::launch(strided_copy_kernel<U>, n, device, static_cast<const U*>(x), static_cast<U*>(out),
                 n, w);
  });
}

void copy_slab(const void* src, int64_t src_dim, int64_t src_start, void* dst, int64_t dst_dim,
               int64_t dst_start, int64_t outer, int64_t len, int64_t inner, size_t elem_size,
               int device) {
  const int64_t row = len * inner, total = outer * row;
  if (total == 0) return;
  by_size("cuda::copy_slab", elem_size, [&](auto u) {
    using U = decltype(u);
    grid::launch(copy_slab_kernel<U>, total, device, static_cast<const U*>(src), src_dim, src_start,
                 static_cast<U*>(dst), dst_dim, dst_start, total, row, inner);
  });
}

}  // namespace dml::cuda
