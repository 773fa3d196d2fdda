#pragma once
// The bias of a bf16 convolution on CUDA (conv2d.cpp), by two small kernels
// rather than cuDNN's cudnnAddTensor and cudnnConvolutionBackwardBias, so
// each result is rounded to bf16 once, as the CPU's reference does (widen,
// the f32 kernel, round): the forward starts y as the broadcast bias and lets
// the convolution accumulate onto it; the bias gradient is summed in f32.
// Convolutions without bias (every one of a ResNet) use neither.
// Plain C++17 (conv2d.cpp and the .cu file include it).
#include <cstdint>

#include "base/dtype.h"

namespace dml::cuda {

// y[img, c, p] = bias[c] for y [n, o, plane].
void fill_channels(const bf16* bias, bf16* y, int64_t n, int64_t o, int64_t plane, int device);

// db[c] = the sum of dy[img, c, p] over images and the plane, accumulated in
// f32 and rounded to bf16 once; dy is [n, o, plane] with n * plane > 0.
void channel_sums(const bf16* dy, bf16* db, int64_t n, int64_t o, int64_t plane, int device);

}  // namespace dml::cuda
