#pragma once
// The shape of a 2-D convolution, shared by the CPU and CUDA kernels: input
// [n, c, h, w], weight [o, c / groups, kh, kw], stride, padding, dilation.
#include <cstdint>

namespace dml::kernels {

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

}  // namespace dml::kernels
