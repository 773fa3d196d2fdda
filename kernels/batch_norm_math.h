#pragma once
// The per-channel and per-element arithmetic of batch normalisation, shared
// by the CPU and CUDA kernels so both round the same values the same way.
// Sums are accumulated in double by both (each in its own order); everything
// after the sums is here. C++17: nvcc compiles it for the device too.
//
// The kernels are templated on the activations' storage type S (x, y, dy,
// dx, the residual; kernels/storage_math.h) and compute in T = math_t<S>,
// the type of the per-channel tensors (mean, invstd, gamma, beta, running
// statistics): f32 and f64 store what they compute; bf16 activations
// (autocast) are widened to f32 on load and each output element is rounded
// to bf16 once, with f32 parameters and statistics, as PyTorch's autocast
// batch norm does.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/host_device.h"
#include "kernels/elementwise_ops.h"
#include "kernels/storage_math.h"

// The (storage, math) type pairs both backends instantiate the activation
// kernels for: X(S, T) per pair.
#define DML_FOR_EACH_BATCH_NORM_STORAGE(X) X(float, float) X(double, double) X(bf16, float)

namespace dml::kernels {

// 1 / sqrt(var + eps), in double, rounded once.
template <class T>
DML_HOST_DEVICE inline T batch_norm_invstd(T var, double eps) {
  return T(1.0 / std::sqrt(double(var) + eps));
}

// The running statistics' exponential average with this batch's mean and
// biased variance; the variance enters unbiased (count / (count - 1)), as in
// PyTorch. count > 1 (the op checks).
template <class T>
DML_HOST_DEVICE inline void batch_norm_running_update(T mean, T var, int64_t count, double momentum,
                                                      T* running_mean, T* running_var) {
  const double unbias = double(count) / double(count - 1);
  *running_mean = T((1 - momentum) * *running_mean + momentum * mean);
  *running_var = T((1 - momentum) * *running_var + momentum * var * unbias);
}

// y = x * scale + shift with scale = invstd * gamma, shift = beta - mean * scale
// (gamma, beta null: no affine transform).
template <class T>
struct BatchNormAffine {
  T scale, shift;
};
template <class T>
DML_HOST_DEVICE inline BatchNormAffine<T> batch_norm_affine(int64_t ch, const T* mean,
                                                            const T* invstd, const T* gamma,
                                                            const T* beta) {
  const T scale = invstd[ch] * (gamma ? gamma[ch] : T(1));
  return {scale, (beta ? beta[ch] : T(0)) - mean[ch] * scale};
}

// One output element of batch_norm2d (kResidual and kRelu false) or of the
// fused batch_norm2d_relu: the normalised value, plus the residual's element
// (kResidual), through ReLU (kRelu). Each step rounds as the separate add and
// relu ops round it (kernels/elementwise_ops.h), so the fused output equals
// relu(batch_norm2d(x) + residual) bit for bit on the same backend.
template <bool kResidual, bool kRelu, class T>
DML_HOST_DEVICE inline T batch_norm_output(T x, const BatchNormAffine<T>& a, T residual) {
  T v = x * a.scale + a.shift;
  if constexpr (kResidual) v = v + residual;
  if constexpr (kRelu) v = UnaryFn<UnaryOp::relu, T>{}(v);
  return v;
}

// relu_grad(g, y), the relu op's backward rule (g where y > 0, else +0, so
// the derivative at 0 is 0), in the form GCC vectorises in the backward's
// double-accumulating loops: for f32 a bit mask (g's bits AND all-ones where
// y > 0, all-zeros elsewhere), since a float select feeding double lanes
// stays scalar with a mispredicted branch per element (8x slower); for f64
// the select itself (64-bit integer masks have no SSE2 vectors). Both give
// relu_grad's value for every input, NaN and infinities included.
template <class T>
DML_HOST_DEVICE inline T relu_grad_vectorisable(T g, T y) {
  if constexpr (sizeof(T) == sizeof(uint32_t)) {
    uint32_t b;
    memcpy(&b, &g, sizeof b);
    b &= 0u - uint32_t(y > T(0));
    T out;
    memcpy(&out, &b, sizeof out);
    return out;
  } else {
    return relu_grad(g, y);
  }
}

// The gradient reaching the normalisation, widened to the math type: dy
// itself, or, in the fused op (kMasked), dy masked by its ReLU's output
// relu_y as relu's backward masks it (bf16: a bf16 y is > 0 exactly where
// its f32 value is, so the mask is the same).
template <bool kMasked, class S>
DML_HOST_DEVICE inline math_t<S> batch_norm_upstream(const S* dy, const S* relu_y, int64_t i) {
  if constexpr (kMasked)
    return relu_grad_vectorisable(load(dy[i]), load(relu_y[i]));
  else
    return load(dy[i]);
}

// What dx needs per channel, from the two sums over the channel's `count`
// elements: sum(dy) and sum(dy * (x - mean)). training: the statistics came
// from this batch, so their derivative counts (the mean terms); eval: they
// are constants and dx = scale * dy.
template <class T>
struct BatchNormGrad {
  T dgamma, dbeta;                 // the affine parameters' gradients
  T scale, mean_dy, mean_dy_xhat;  // dx's coefficients
};
template <class T>
DML_HOST_DEVICE inline BatchNormGrad<T> batch_norm_grad(double sum_dy, double sum_dy_xc,
                                                        double count, T invstd, const T* gamma,
                                                        int64_t ch, bool training) {
  const double sum_dy_xhat = sum_dy_xc * invstd;
  BatchNormGrad<T> g;
  g.dgamma = T(sum_dy_xhat);
  g.dbeta = T(sum_dy);
  g.scale = invstd * (gamma ? gamma[ch] : T(1));
  g.mean_dy = training ? T(sum_dy / count) : T(0);
  g.mean_dy_xhat = training ? T(sum_dy_xhat / count) : T(0);
  return g;
}

// dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = (x - mean) * invstd.
template <class T>
DML_HOST_DEVICE inline T batch_norm_dx(T dy, T x, T mean, T invstd, const BatchNormGrad<T>& g) {
  return g.scale * (dy - g.mean_dy - (x - mean) * invstd * g.mean_dy_xhat);
}

// Calls f(std::bool_constant<a>{}) (with_flags: f(bool_constant<a>,
// bool_constant<b>)): a kernel's runtime flags as template arguments, so the
// element loops carry no branch.
template <class F>
inline void with_flag(bool a, F&& f) {
  a ? f(std::true_type{}) : f(std::false_type{});
}
template <class F>
inline void with_flags(bool a, bool b, F&& f) {
  with_flag(a, [&](auto fa) { with_flag(b, [&](auto fb) { f(fa, fb); }); });
}

}  // namespace dml::kernels
