#pragma once
// Index arithmetic shared by the CPU convolution kernels (conv2d.cpp and the
// column source of conv2d_columns.h): a group's matrix sizes and, per kernel
// column, the output columns whose input column lies inside the image.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv_shape.h"

namespace dml::cpu {

struct GroupDims {
  int64_t cg, og, k, hw, ohw;  // channels, outputs, column rows, input/output plane size
};
inline GroupDims group_dims(const kernels::ConvShape& s) {
  const int64_t cg = s.c / s.groups;
  return {cg, s.o / s.groups, cg * s.kh * s.kw, s.h * s.w, s.out_h() * s.out_w()};
}

// The output columns ox in [begin, end) whose input column
// ix = ox*sw - pw + j*dw lies inside the image, for kernel column j; first_ix
// is the input column of ox = begin. Outside that range the column matrix is zero.
struct ColumnRange {
  int64_t begin, end, first_ix;
};
inline ColumnRange valid_column_range(const kernels::ConvShape& s, int64_t j) {
  const int64_t ow = s.out_w(), offset = j * s.dil_w - s.pad_w;  // ix = ox*sw + offset
  int64_t begin = offset >= 0 ? 0 : (-offset + s.stride_w - 1) / s.stride_w;
  int64_t end = s.w - offset <= 0 ? 0 : (s.w - offset + s.stride_w - 1) / s.stride_w;
  begin = std::min(begin, ow);
  end = std::clamp(end, begin, ow);
  return {begin, end, begin * s.stride_w + offset};
}

// One range per kernel column, computed before the parallel loops.
inline std::vector<ColumnRange> valid_columns(const kernels::ConvShape& s) {
  std::vector<ColumnRange> ranges(size_t(s.kw));
  for (int64_t j = 0; j < s.kw; ++j) ranges[size_t(j)] = valid_column_range(s, j);
  return ranges;
}

}  // namespace dml::cpu
