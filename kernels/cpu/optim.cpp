#include "kernels/cpu/optim.h"

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

template <class T>
void sgd_step(T* param, const T* grad, T* buf, int64_t n, const SgdParams& p) {
  const kernels::SgdCoeffs<T> c(p);
  parallel_for(
      n, [&](int64_t i) { kernels::sgd_update(param[i], grad[i], buf ? buf + i : nullptr, c); });
}

template <class T>
void adam_step(T* param, const T* grad, T* m, T* v, int64_t n, const AdamParams& p) {
  const kernels::AdamCoeffs<T> c(p);
  parallel_for(n, [&](int64_t i) { kernels::adam_update(param[i], grad[i], m[i], v[i], c); });
}

template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdParams&);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdParams&);
template void adam_step<float>(float*, const float*, float*, float*, int64_t, const AdamParams&);
template void adam_step<double>(double*, const double*, double*, double*, int64_t,
                                const AdamParams&);

}  // namespace dml::cpu
