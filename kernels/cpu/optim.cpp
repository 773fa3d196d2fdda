#include "kernels/cpu/optim.h"

#include "base/parallel.h"

namespace dml::cpu {

namespace {

bool skipped(const float* skip_if) {
  return skip_if != nullptr && *skip_if != 0;
}

}  // namespace

template <class T>
void sgd_step(const std::vector<SgdBuffers<T>>& params, const SgdCoeffs<T>* coeffs,
              const float* skip_if) {
  if (skipped(skip_if)) return;
  const SgdCoeffs<T> c = *coeffs;
  for (const SgdBuffers<T>& b : params)
    parallel_for(b.n, [&](int64_t i) {
      kernels::sgd_update(b.param[i], b.grad[i], b.momentum ? b.momentum + i : nullptr, c);
    });
}

template <class T>
void adam_step(const std::vector<AdamBuffers<T>>& params, const AdamCoeffs<T>* coeffs,
               const float* skip_if) {
  if (skipped(skip_if)) return;
  const AdamCoeffs<T> c = *coeffs;
  for (const AdamBuffers<T>& b : params)
    parallel_for(b.n, [&](int64_t i) {
      kernels::adam_update(b.param[i], b.grad[i], b.exp_avg[i], b.exp_avg_sq[i], c);
    });
}

template <class T>
void non_finite_check_and_unscale(const std::vector<T*>& buffers, const std::vector<int64_t>& sizes,
                                  T inv_scale, float* found_nonfinite) {
  const bool scale = inv_scale != T(1);
  bool found = false;
  for (size_t t = 0; t < buffers.size(); ++t) {
    T* x = buffers[t];
    const int64_t n = sizes[t];
    bool bad = false;
#pragma omp parallel for schedule(static) reduction(|| : bad) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) bad = kernels::unscale_element(x[i], inv_scale, scale) || bad;
    found = found || bad;
  }
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
