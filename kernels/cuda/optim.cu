#include "kernels/cuda/multi_tensor.cuh"
#include "kernels/cuda/optim.h"

namespace dml::cuda {

namespace {

// The ops of the multi-tensor kernel: load() reads the coefficients the
// host staged on the device, once per thread, and returns the element
// functor; p holds the buffers of the block's tensor in the order the
// launchers below list them.
template <class T>
struct SgdElement {
  SgdCoeffs<T> c;
  __device__ void operator()(T* const* p, int64_t i) const {
    kernels::sgd_update(p[0][i], p[1][i], p[2] ? p[2] + i : nullptr, c);
  }
};

template <class T>
struct SgdOp {
  const SgdCoeffs<T>* c;
  __device__ SgdElement<T> load() const { return {*c}; }
};

template <class T>
struct AdamElement {
  AdamCoeffs<T> c;
  __device__ void operator()(T* const* p, int64_t i) const {
    kernels::adam_update(p[0][i], p[1][i], p[2][i], p[3][i], c);
  }
};

template <class T>
struct AdamOp {
  const AdamCoeffs<T>* c;
  __device__ AdamElement<T> load() const { return {*c}; }
};

// Threads that meet a non-finite element all store the same 1: a benign
// race that ORs into the flag without atomics.
template <class T>
struct UnscaleElement {
  T inv_scale;
  bool scale;
  float* found;
  __device__ UnscaleElement load() const { return *this; }
  __device__ void operator()(T* const* p, int64_t i) const {
    if (kernels::unscale_element(p[0][i], inv_scale, scale)) *found = 1.f;
  }
};

}  // namespace

template <class T>
void sgd_step(const std::vector<SgdBuffers<T>>& params, const SgdCoeffs<T>* c, const float* skip_if,
              int device) {
  std::vector<multi_tensor::Entry<T, 3>> list;
  list.reserve(params.size());
  for (const SgdBuffers<T>& b : params)
    list.push_back({{b.param, const_cast<T*>(b.grad), b.momentum}, b.n});
  multi_tensor::apply(list, SgdOp<T>{c}, skip_if, device);
}

template <class T>
void adam_step(const std::vector<AdamBuffers<T>>& params, const AdamCoeffs<T>* c,
               const float* skip_if, int device) {
  std::vector<multi_tensor::Entry<T, 4>> list;
  list.reserve(params.size());
  for (const AdamBuffers<T>& b : params)
    list.push_back({{b.param, const_cast<T*>(b.grad), b.exp_avg, b.exp_avg_sq}, b.n});
  multi_tensor::apply(list, AdamOp<T>{c}, skip_if, device);
}

template <class T>
void non_finite_check_and_unscale(const std::vector<T*>& buffers, const std::vector<int64_t>& sizes,
                                  T inv_scale, float* found_nonfinite, int device) {
  std::vector<multi_tensor::Entry<T, 1>> list;
  list.reserve(buffers.size());
  for (size_t t = 0; t < buffers.size(); ++t) list.push_back({{buffers[t]}, sizes[t]});
  multi_tensor::apply(list, UnscaleElement<T>{inv_scale, inv_scale != T(1), found_nonfinite},
                      nullptr, device);
}

template void sgd_step<float>(const std::vector<SgdBuffers<float>>&, const SgdCoeffs<float>*,
                              const float*, int);
template void sgd_step<double>(const std::vector<SgdBuffers<double>>&, const SgdCoeffs<double>*,
                               const float*, int);
template void adam_step<float>(const std::vector<AdamBuffers<float>>&, const AdamCoeffs<float>*,
                               const float*, int);
template void adam_step<double>(const std::vector<AdamBuffers<double>>&, const AdamCoeffs<double>*,
                                const float*, int);
template void non_finite_check_and_unscale<float>(const std::vector<float*>&,
                                                  const std::vector<int64_t>&, float, float*, int);
template void non_finite_check_and_unscale<double>(const std::vector<double*>&,
                                                   const std::vector<int64_t>&, double, float*,
                                                   int);

}  // namespace dml::cuda
