#include "kernels/cuda/grid.cuh"
#include "kernels/cuda/optim.h"

namespace dml::cuda {

namespace {

template <class T>
__global__ void sgd_kernel(T* param, const T* grad, T* buf, int64_t n, kernels::SgdCoeffs<T> c) {
  DML_GRID_STRIDE_LOOP(i, n)
  kernels::sgd_update(param[i], grad[i], buf ? buf + i : nullptr, c);
}

template <class T>
__global__ void adam_kernel(T* param, const T* grad, T* m, T* v, int64_t n,
                            kernels::AdamCoeffs<T> c) {
  DML_GRID_STRIDE_LOOP(i, n)
  kernels::adam_update(param[i], grad[i], m[i], v[i], c);
}

}  // namespace

template <class T>
void sgd_step(T* param, const T* grad, T* buf, int64_t n, const SgdParams& p, int device) {
  grid::launch(sgd_kernel<T>, n, device, param, grad, buf, n, kernels::SgdCoeffs<T>(p));
}

template <class T>
void adam_step(T* param, const T* grad, T* m, T* v, int64_t n, const AdamParams& p, int device) {
  grid::launch(adam_kernel<T>, n, device, param, grad, m, v, n, kernels::AdamCoeffs<T>(p));
}

template void sgd_step<float>(float*, const float*, float*, int64_t, const SgdParams&, int);
template void sgd_step<double>(double*, const double*, double*, int64_t, const SgdParams&, int);
template void adam_step<float>(float*, const float*, float*, float*, int64_t, const AdamParams&,
                               int);
template void adam_step<double>(double*, const double*, double*, double*, int64_t,
                                const AdamParams&, int);

}  // namespace dml::cuda
