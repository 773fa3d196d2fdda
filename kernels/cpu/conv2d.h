#pragma once
// 2-D convolution by im2col + GEMM, NCHW, with stride, padding, dilation and
// groups. Per image and group: out[O_g, OH*OW] = W_g[O_g, C_g*KH*KW] x
// col[C_g*KH*KW, OH*OW]. A 1x1, stride-1, unpadded convolution reads the
// input as the column matrix directly. f32 on the avx512 path and above
// never stores the column matrix: the GEMM fills its panels from the image
// (conv2d_columns.h; the choice is explained in conv2d.cpp).
//
// f32 and f64; bf16 too (the specialisations below): im2col in bf16, the
// products accumulated in f32, every result rounded to bf16 once (the filter
// gradient after summing every chunk of images in f32).
#include <cstdint>

#include "base/dtype.h"
#include "kernels/conv_shape.h"

namespace dml::cpu {

using kernels::ConvShape;

// y = conv(x, w) (+ bias if non-null).
template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
// dx = conv_transpose(dy, w); dx is overwritten.
template <class T>
void conv2d_backward_data(const ConvShape& s, const T* dy, const T* w, T* dx);
// dw = sum over images of dy x col^T, db = sum of dy; both overwritten, db may be null.
template <class T>
void conv2d_backward_filter(const ConvShape& s, const T* x, const T* dy, T* dw, T* db);

template <>
void conv2d_forward<bf16>(const ConvShape& s, const bf16* x, const bf16* w, const bf16* bias,
                          bf16* y);
template <>
void conv2d_backward_data<bf16>(const ConvShape& s, const bf16* dy, const bf16* w, bf16* dx);
template <>
void conv2d_backward_filter<bf16>(const ConvShape& s, const bf16* x, const bf16* dy, bf16* dw,
                                  bf16* db);

}  // namespace dml::cpu
