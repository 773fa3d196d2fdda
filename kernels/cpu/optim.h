#pragma once
// Fused optimizer updates over one parameter buffer, in place, following
// PyTorch's torch.optim formulas exactly so runs can be compared step by step.
// One element's update is kernels/optim_ops.h, shared with the CUDA kernels.
#include <cstdint>

#include "kernels/optim_ops.h"

namespace dml::cpu {

using kernels::AdamParams;
using kernels::SgdParams;

// momentum_buf may be null when momentum == 0.
template <class T>
void sgd_step(T* param, const T* grad, T* momentum_buf, int64_t n, const SgdParams& p);

template <class T>
void adam_step(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamParams& p);

}  // namespace dml::cpu
