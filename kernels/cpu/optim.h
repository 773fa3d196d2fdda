#pragma once
// Multi-tensor optimizer updates, in place, following PyTorch's torch.optim
// formulas exactly so runs can be compared step by step: one call updates a
// list of parameters that share their coefficients (a group at one step
// count). One element's update is kernels/optim_ops.h, shared with the CUDA
// kernels; `c` points to the list's coefficients (host memory here).
#include <cstdint>
#include <vector>

#include "kernels/optim_ops.h"

namespace dml::cpu {

using kernels::AdamBuffers;
using kernels::AdamCoeffs;
using kernels::SgdBuffers;
using kernels::SgdCoeffs;

// skip_if: null, or one f32 in host memory; when it is nonzero nothing is
// written (a loss scaler found a non-finite gradient).
template <class T>
void sgd_step(const std::vector<SgdBuffers<T>>& params, const SgdCoeffs<T>* c,
              const float* skip_if);

template <class T>
void adam_step(const std::vector<AdamBuffers<T>>& params, const AdamCoeffs<T>* c,
               const float* skip_if);

// Multiplies every element of every buffer by inv_scale in place (skipped
// when inv_scale is 1) and sets *found_nonfinite to 1 if any element was NaN
// or +-inf; leaves it as it was otherwise, so calls for several dtypes OR
// into one flag.
template <class T>
void non_finite_check_and_unscale(const std::vector<T*>& buffers, const std::vector<int64_t>& sizes,
                                  T inv_scale, float* found_nonfinite);

}  // namespace dml::cpu
