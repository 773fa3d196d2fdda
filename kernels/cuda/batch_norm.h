#pragma once
// Batch normalisation on a CUDA device: the CPU kernels' signatures
// (kernels/cpu/batch_norm.h) plus the device, on whose stream they run.
// Own kernels rather than cuDNN's, so f64 and every CPU rule (two-pass
// statistics in double, running update with the unbiased variance, the eval
// backward) hold exactly; the arithmetic after the sums is the CPU's own
// (kernels/batch_norm_math.h). Per-channel sums are deterministic: each
// channel is split into a fixed number of chunks (a function of n * hw
// only), each chunk summed in double by one block as a fixed tree, and the
// chunks added in order. batch_norm_apply's residual and ReLU and
// batch_norm_backward's relu_y (the fused batch_norm2d_relu) are the CPU's:
// the same per-element functions, in templated kernels with no branch.
// S is the activations' storage type (f32, f64, bf16), math_t<S> that of the
// per-channel tensors and of the arithmetic (kernels/storage_math.h).
#include <cstdint>

#include "kernels/storage_math.h"

namespace dml::cuda {

template <class S>
void batch_norm_stats(const S* x, int64_t n, int64_t c, int64_t hw, kernels::math_t<S>* mean,
                      kernels::math_t<S>* var, int device);

template <class T>
void batch_norm_update_running(const T* mean, const T* var, int64_t c, int64_t count,
                               double momentum, double eps, T* running_mean, T* running_var,
                               T* invstd, int device);

template <class T>
void batch_norm_running_stats(const T* running_mean, const T* running_var, int64_t c, double eps,
                              T* mean, T* invstd, int device);

template <class S, class T = kernels::math_t<S>>
void batch_norm_apply(const S* x, int64_t n, int64_t c, int64_t hw, const T* mean, const T* invstd,
                      const T* gamma, const T* beta, const S* residual, bool relu, S* y,
                      int device);

template <class S, class T = kernels::math_t<S>>
void batch_norm_backward(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c, int64_t hw,
                         const T* mean, const T* invstd, const T* gamma, bool training, S* dx,
                         T* dgamma, T* dbeta, int device);

template <class S>
void batch_norm_relu_mask(const S* dy, const S* relu_y, S* out, int64_t n, int device);

}  // namespace dml::cuda
