#pragma once
// Batch normalisation over N, H, W per channel of an NCHW tensor, viewed as
// [n, c, hw]. gamma/beta may be null (no affine transform). The arithmetic
// after the sums is kernels/batch_norm_math.h, shared with the CUDA kernels.
// S is the activations' storage type (f32, f64, bf16), math_t<S> that of
// the per-channel tensors and of the arithmetic (kernels/storage_math.h).
#include <cstdint>

#include "kernels/storage_math.h"

namespace dml::cpu {

// Batch statistics: mean and biased variance per channel.
template <class S>
void batch_norm_stats(const S* x, int64_t n, int64_t c, int64_t hw, kernels::math_t<S>* mean,
                      kernels::math_t<S>* var);

// Training: folds this batch's statistics into the running ones (momentum,
// unbiased variance; count = n * hw > 1) and writes invstd from var.
template <class T>
void batch_norm_update_running(const T* mean, const T* var, int64_t c, int64_t count,
                               double momentum, double eps, T* running_mean, T* running_var,
                               T* invstd);

// Eval: the running statistics as the normalisation's mean and invstd.
template <class T>
void batch_norm_running_stats(const T* running_mean, const T* running_var, int64_t c, double eps,
                              T* mean, T* invstd);

// y = (x - mean) * invstd * gamma + beta, with invstd = 1 / sqrt(var + eps).
// Fused with what follows it in a ResNet block (batch_norm2d_relu): then
// + residual (same layout as x; null: none) and ReLU (relu), in the same pass.
template <class S, class T = kernels::math_t<S>>
void batch_norm_apply(const S* x, int64_t n, int64_t c, int64_t hw, const T* mean, const T* invstd,
                      const T* gamma, const T* beta, const S* residual, bool relu, S* y);

// Backward with respect to x, gamma, beta (any output may be null).
// training: the statistics came from this batch, so their derivative counts.
// relu_y (null: none): the fused op's output; dy is then masked where
// relu_y > 0 as it is read, as the relu op's backward would mask it.
template <class S, class T = kernels::math_t<S>>
void batch_norm_backward(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c, int64_t hw,
                         const T* mean, const T* invstd, const T* gamma, bool training, S* dx,
                         T* dgamma, T* dbeta);

// The fused op's residual gradient: out = dy masked where relu_y > 0, as the
// relu op's backward masks it (any S; no rounding: it selects dy or +0).
template <class S>
void batch_norm_relu_mask(const S* dy, const S* relu_y, S* out, int64_t n);

}  // namespace dml::cpu
