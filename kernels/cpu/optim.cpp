#include "kernels/cpu/optim.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

template <class T>
void sgd_step(T* param, const T* grad, T* buf, int64_t n, const SgdParams& p) {
  const T lr = T(p.lr), mom = T(p.momentum), damp = T(p.dampening), wd = T(p.weight_decay);
  parallel_for(n, [&](int64_t i) {
    T g = grad[i] + wd * param[i];
    if (mom != T(0)) {
      T b = p.first_step ? g : mom * buf[i] + (T(1) - damp) * g;
      buf[i] = b;
      g = p.nesterov ? g + mom * b : b;
    }
    param[i] -= lr * g;
  });
}

template <class T>
void adam_step(T* param, const T* grad, T* m, T* v, int64_t n, const AdamParams& p) {
  const T lr = T(p.lr), b1 = T(p.beta1), b2 = T(p.beta2), eps = T(p.eps), wd = T(p.weight_decay);
  const T bc1 = T(1) - T(std::pow(p.beta1, double(p.step)));
  const T bc2_sqrt = T(std::sqrt(1.0 - std::pow(p.beta2, double(p.step))));
  const T step_size = lr / bc1;
  parallel_for(n, [&](int64_t i) {
    T g = grad[i];
    if (p.decoupled_weight_decay)
      param[i] *= T(1) - lr * wd;
    else
      g += wd * param[i];
    m[i] = b1 * m[i] + (T(1) - b1) * g;
    v[i] = b2 * v[i] + (T(1) - b2) * g * g;
    param[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  });
}

template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdParams&);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdParams&);
template void adam_step<float>(float*, const float*, float*, float*, int64_t, const AdamParams&);
template void adam_step<double>(double*, const double*, double*, double*, int64_t,
                                const AdamParams&);

}  // namespace dml::cpu
