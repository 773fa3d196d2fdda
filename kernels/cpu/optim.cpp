#include "kernels/cpu/optim.h"

#include "kernels/cpu/parallel_isa.h"

namespace dml::cpu {

namespace {

// Each step is one loop body (isa_dispatch.h) per buffer, run on the active
// path's copy over chunks (parallel_isa.h). Elementwise, no contraction in
// this file: every path gives the same bits. The buffers of one parameter
// never overlap, hence __restrict.

bool skipped(const float* skip_if) {
  return skip_if != nullptr && *skip_if != 0;
}

template <class T>
DML_ISA_BODY void sgd_body(int64_t begin, int64_t end, SgdBuffers<T> b, SgdCoeffs<T> c) {
  T* __restrict param = b.param;
  const T* __restrict grad = b.grad;
  T* __restrict momentum = b.momentum;
  if (momentum)
    for (int64_t i = begin; i < end; ++i) kernels::sgd_update(param[i], grad[i], momentum + i, c);
  else
    for (int64_t i = begin; i < end; ++i)
      kernels::sgd_update(param[i], grad[i], static_cast<T*>(nullptr), c);
}

template <class T>
DML_ISA_BODY void adam_body(int64_t begin, int64_t end, AdamBuffers<T> b, AdamCoeffs<T> c) {
  T* __restrict param = b.param;
  const T* __restrict grad = b.grad;
  T* __restrict exp_avg = b.exp_avg;
  T* __restrict exp_avg_sq = b.exp_avg_sq;
  for (int64_t i = begin; i < end; ++i)
    kernels::adam_update(param[i], grad[i], exp_avg[i], exp_avg_sq[i], c);
}

template <class T>
DML_ISA_BODY void unscale_body(int64_t begin, int64_t end, bool* found, T* x, T inv_scale,
                               bool scale) {
  bool bad = false;
  for (int64_t i = begin; i < end; ++i) bad |= kernels::unscale_element(x[i], inv_scale, scale);
  *found = bad;
}

}  // namespace

template <class T>
void sgd_step(const std::vector<SgdBuffers<T>>& params, const SgdCoeffs<T>* coeffs,
              const float* skip_if) {
  if (skipped(skip_if)) return;
  for (const SgdBuffers<T>& b : params) parallel_for_isa<sgd_body<T>>(b.n, b, *coeffs);
}

template <class T>
void adam_step(const std::vector<AdamBuffers<T>>& params, const AdamCoeffs<T>* coeffs,
               const float* skip_if) {
  if (skipped(skip_if)) return;
  for (const AdamBuffers<T>& b : params) parallel_for_isa<adam_body<T>>(b.n, b, *coeffs);
}

template <class T>
void non_finite_check_and_unscale(const std::vector<T*>& buffers, const std::vector<int64_t>& sizes,
                                  T inv_scale, float* found_nonfinite) {
  const bool scale = inv_scale != T(1);
  bool found = false;
  for (size_t t = 0; t < buffers.size(); ++t)
    found = parallel_any_isa<unscale_body<T>>(sizes[t], buffers[t], inv_scale, scale) || found;
  if (found) *found_nonfinite = 1;
}

template void sgd_step<float>(const std::vector<SgdBuffers<float>>&, const SgdCoeffs<float>*,
                              const float*);
template void sgd_step<double>(const std::vector<SgdBuffers<double>>&, const SgdCoeffs<double>*,
                               const float*);
template void adam_step<float>(const std::vector<AdamBuffers<float>>&, const AdamCoeffs<float>*,
                               const float*);
template void adam_step<double>(const std::vector<AdamBuffers<double>>&, const AdamCoeffs<double>*,
                                const float*);
template void non_finite_check_and_unscale<float>(const std::vector<float*>&,
                                                  const std::vector<int64_t>&, float, float*);
template void non_finite_check_and_unscale<double>(const std::vector<double*>&,
                                                   const std::vector<int64_t>&, double, float*);

}  // namespace dml::cpu
