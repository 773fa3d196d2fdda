#pragma once
// Pooling and layout kernels of the inference path on channels-last (NHWC)
// activations: every inner loop runs along the channels, contiguous in
// memory, so it vectorises.
#include <cstdint>

#include "kernels/pool_window.h"

namespace dml::cpu {

// x NCHW [n, c, hw] -> y NHWC [n, hw, c].
void nchw_to_nhwc(const float* x, int64_t n, int64_t c, int64_t hw, float* y);

// Max pooling of x [n, ay.in, ax.in, c] into y [n, ay.out, ax.out, c], each
// output over the window kernels/pool_window.h gives (padding never wins).
void max_pool_nhwc(const float* x, int64_t n, int64_t c, const kernels::PoolAxis& ay,
                   const kernels::PoolAxis& ax, float* y);

enum class GlobalPoolKind { average, max, average_plus_max };

// y[i, ch] = the average, the maximum, or their sum, of x[i, :, ch] over the
// hw positions of image i; x [n, hw, c], y [n, c].
void global_pool_nhwc(const float* x, int64_t n, int64_t hw, int64_t c, GlobalPoolKind kind,
                      float* y);

}  // namespace dml::cpu
