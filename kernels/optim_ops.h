#pragma once
// What the CPU and CUDA optimizer kernels share: the options of one update,
// the buffers of one parameter, and the update of one element, following
// PyTorch's torch.optim formulas, so both backends run the same arithmetic
// (kernels/cpu/optim.h and kernels/cuda/optim.h walk lists of buffers with
// it). The per-step coefficients (SgdCoeffs, AdamCoeffs: the learning rate,
// Adam's bias corrections) are computed once on the host and read by the
// kernels from memory on their device, so a launch recorded in a CUDA graph
// reads each replay's values (engine/optim/optimizer.h, stage_step). Also the
// element of a loss scaler's unscale-and-check.
// C++17 and host/device annotated: .cu files include it.
#include <cmath>
#include <cstdint>

#include "base/host_device.h"

namespace dml::kernels {

struct SgdParams {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the first gradient
};

struct AdamParams {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;  // AdamW
  int64_t step;                 // 1-based, for bias correction
};

// One parameter of a multi-tensor update: its buffers, n elements each. A
// list of them shares one set of coefficients (one group, one step count).
template <class T>
struct SgdBuffers {
  T* param;
  const T* grad;
  T* momentum;  // null when momentum is 0 (no slot)
  int64_t n;
};

template <class T>
struct AdamBuffers {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  int64_t n;
};

// SgdParams in the parameter's type.
template <class T>
struct SgdCoeffs {
  T lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
  explicit SgdCoeffs(const SgdParams& p)
      : lr(T(p.lr)),
        momentum(T(p.momentum)),
        dampening(T(p.dampening)),
        weight_decay(T(p.weight_decay)),
        nesterov(p.nesterov),
        first_step(p.first_step) {}
};

// One element; `buf` is the momentum buffer's element (unused, and may be
// null, when momentum is 0).
template <class T>
DML_HOST_DEVICE void sgd_update(T& param, T grad, T* buf, const SgdCoeffs<T>& c) {
  T g = grad + c.weight_decay * param;
  if (c.momentum != T(0)) {
    T b = c.first_step ? g : c.momentum * *buf + (T(1) - c.dampening) * g;
    *buf = b;
    g = c.nesterov ? g + c.momentum * b : b;
  }
  param -= c.lr * g;
}

// AdamParams in the parameter's type, with the step's bias corrections.
template <class T>
struct AdamCoeffs {
  T lr, beta1, beta2, eps, weight_decay, bias_correction2_sqrt, step_size;
  bool decoupled;
  explicit AdamCoeffs(const AdamParams& p)
      : lr(T(p.lr)),
        beta1(T(p.beta1)),
        beta2(T(p.beta2)),
        eps(T(p.eps)),
        weight_decay(T(p.weight_decay)),
        bias_correction2_sqrt(T(std::sqrt(1.0 - std::pow(p.beta2, double(p.step))))),
        step_size(T(p.lr) / (T(1) - T(std::pow(p.beta1, double(p.step))))),
        decoupled(p.decoupled_weight_decay) {}
};

template <class T>
DML_HOST_DEVICE void adam_update(T& param, T grad, T& exp_avg, T& exp_avg_sq,
                                 const AdamCoeffs<T>& c) {
  T g = grad;
  if (c.decoupled)
    param *= T(1) - c.lr * c.weight_decay;
  else
    g += c.weight_decay * param;
  exp_avg = c.beta1 * exp_avg + (T(1) - c.beta1) * g;
  exp_avg_sq = c.beta2 * exp_avg_sq + (T(1) - c.beta2) * g * g;
  param -= c.step_size * exp_avg / (std::sqrt(exp_avg_sq) / c.bias_correction2_sqrt + c.eps);
}

// One gradient element of a non-finite check and unscale (what a dynamic
// loss scaler runs before the optimizer): multiplies it by inv_scale when
// `scale`, and tells whether it was NaN or +-inf before scaling.
template <class T>
DML_HOST_DEVICE bool unscale_element(T& grad, T inv_scale, bool scale) {
  const T g = grad;
  if (scale) grad = g * inv_scale;
  return !std::isfinite(g);
}

}  // namespace dml::kernels
