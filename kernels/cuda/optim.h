#pragma once
// Fused optimizer updates over one parameter buffer on a CUDA device: one
// kernel per buffer, on the device's stream, with the CPU's element update
// (kernels/optim_ops.h). nvcc fuses some multiply-adds the CPU rounds
// separately, so results agree with the CPU's within a few ulps per step,
// not bit for bit.
#include <cstdint>

#include "kernels/optim_ops.h"

namespace dml::cuda {

using kernels::AdamParams;
using kernels::SgdParams;

// momentum_buf may be null when momentum == 0.
template <class T>
void sgd_step(T* param, const T* grad, T* momentum_buf, int64_t n, const SgdParams& p, int device);

template <class T>
void adam_step(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamParams& p,
               int device);

}  // namespace dml::cuda
