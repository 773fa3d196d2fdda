#pragma once
// Batch normalisation over N, H, W per channel of an NCHW tensor, viewed as
// [n, c, hw]. gamma/beta may be null (no affine transform).
#include <cstdint>

namespace dml::cpu {

// Batch statistics: mean and biased variance per channel.
template <class T>
void batch_norm_stats(const T* x, int64_t n, int64_t c, int64_t hw, T* mean, T* var);

// y = (x - mean) * invstd * gamma + beta, with invstd = 1 / sqrt(var + eps).
template <class T>
void batch_norm_apply(const T* x, int64_t n, int64_t c, int64_t hw, const T* mean, const T* invstd,
                      const T* gamma, const T* beta, T* y);

// Backward with respect to x, gamma, beta (any output may be null).
// training: the statistics came from this batch, so their derivative counts.
template <class T>
void batch_norm_backward(const T* dy, const T* x, int64_t n, int64_t c, int64_t hw, const T* mean,
                         const T* invstd, const T* gamma, bool training, T* dx, T* dgamma,
                         T* dbeta);

}  // namespace dml::cpu
