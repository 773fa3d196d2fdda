#pragma once
// A convolution's column matrix (conv2d.h: row (c*kh + i)*kw + j, column
// img*OH*OW + oy*OW + ox, the input element that output position meets with
// kernel tap (i, j), or 0 in the padding) as an operand of the AVX-512 SGEMM
// that is never stored: the GEMM asks for the blocks it packs
// (sgemm_avx512.h's MatrixSource) and they are copied from the image then,
// a kc x NR panel or a few k-contiguous rows at a time, into cache. So
// im2col's write and re-read of a matrix KH*KW times the image's size (tens
// of MiB, from memory) become a copy from the image into L1/L2.
//
// f32 only, and only for the avx512 path and above (the SGEMM's).
#include <cstdint>
#include <vector>

#include "kernels/conv_shape.h"
#include "kernels/cpu/conv2d_geometry.h"
#include "kernels/cpu/sgemm_avx512.h"

namespace dml::cpu {

class ImageColumns {
 public:
  // The column matrix of `count` consecutive images of one group: x points
  // at the first image's first channel of the group (images s.c * h * w
  // floats apart), which must outlive the GEMM.
  ImageColumns(const kernels::ConvShape& s, const float* x);
  MatrixSource source() const { return {&fill, this}; }

 private:
  static void fill(const void* self, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
                   float* dst, int64_t ld);

  kernels::ConvShape s_;
  const float* x_;
  GroupDims g_;
  int64_t oh_, ow_;
  std::vector<ColumnRange> ranges_;  // per kernel column
};

// line[l * stride] += from[l] for l < count: the adjoint's inner loop (col2im
// of one kernel column on one output row), vectorised for strides 1 and 2.
void add_to_line(float* line, const float* from, int64_t count, int64_t stride);

}  // namespace dml::cpu
