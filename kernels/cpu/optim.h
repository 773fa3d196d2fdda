#pragma once
// Fused optimizer updates over one parameter buffer, in place, following
// PyTorch's torch.optim formulas exactly so runs can be compared step by step.
#include <cstdint>

namespace dml::cpu {

struct SgdParams {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the first gradient
};
// momentum_buf may be null when momentum == 0.
template <class T>
void sgd_step(T* param, const T* grad, T* momentum_buf, int64_t n, const SgdParams& p);

struct AdamParams {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;  // AdamW
  int64_t step;                 // 1-based, for bias correction
};
template <class T>
void adam_step(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, const AdamParams& p);

}  // namespace dml::cpu
