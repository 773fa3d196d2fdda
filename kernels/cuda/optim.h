#pragma once
// Multi-tensor optimizer updates on a CUDA device: a list of parameters that
// share their coefficients in a few launches (kernels/cuda/multi_tensor.cuh),
// on the device's stream, with the CPU's element update
// (kernels/optim_ops.h). nvcc fuses some multiply-adds the CPU rounds
// separately, so results agree with the CPU's within a few ulps per step,
// not bit for bit.
#include <cstdint>
#include <vector>

#include "kernels/optim_ops.h"

namespace dml::cuda {

using kernels::AdamBuffers;
using kernels::AdamCoeffs;
using kernels::SgdBuffers;
using kernels::SgdCoeffs;

// c: the list's coefficients in device memory, read when the kernels run
// (a CUDA graph's replay reads what was staged there before it). skip_if:
// null, or one f32 on the device; every block reads it and returns without
// writing when it is nonzero, so the host need not read it.
template <class T>
void sgd_step(const std::vector<SgdBuffers<T>>& params, const SgdCoeffs<T>* c, const float* skip_if,
              int device);

template <class T>
void adam_step(const std::vector<AdamBuffers<T>>& params, const AdamCoeffs<T>* c,
               const float* skip_if, int device);

// As cpu::non_finite_check_and_unscale; found_nonfinite is one f32 on the
// device, set to 1 by any thread that meets a non-finite element.
template <class T>
void non_finite_check_and_unscale(const std::vector<T*>& buffers, const std::vector<int64_t>& sizes,
                                  T inv_scale, float* found_nonfinite, int device);

}  // namespace dml::cuda
