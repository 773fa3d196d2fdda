#pragma once
// 2-D convolution by im2col + GEMM, NCHW, with stride, padding, dilation and
// groups. Per image and group: out[O_g, OH*OW] = W_g[O_g, C_g*KH*KW] x
// col[C_g*KH*KW, OH*OW]. A 1x1, stride-1, unpadded convolution reads the
// input as the column matrix directly.
//
// f32 and f64; bf16 too (the specialisations below): operands widened to
// f32, the f32 kernel, every result rounded to bf16 once (bf16_widen.h).
#include <cstdint>

#include "engine/dtype.h"

namespace dml::cpu {

struct ConvShape {
  int64_t n, c, h, w;  // input
  int64_t o, kh, kw;   // weight [o, c / groups, kh, kw]
  int64_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
  // Channels last (CUDA only, kernels/cuda/conv2d.h): x [n, h, w, c], the
  // weight [o, kh, kw, c / groups], y [n, out_h, out_w, o]; no bias. The CPU
  // kernels take NCHW only (the channels-last op permutes around them).
  bool channels_last = false;
  int64_t out_h() const { return (h + 2 * pad_h - dil_h * (kh - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (w + 2 * pad_w - dil_w * (kw - 1) - 1) / stride_w + 1; }
  // Elements of x, w and y.
  int64_t input_size() const { return n * c * h * w; }
  int64_t weight_size() const { return o * (c / groups) * kh * kw; }
  int64_t output_size() const { return n * o * out_h() * out_w(); }
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
};

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
