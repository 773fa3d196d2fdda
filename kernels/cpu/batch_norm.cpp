#include "kernels/cpu/batch_norm.h"

#include "base/parallel.h"
#include "kernels/batch_norm_math.h"

namespace dml::cpu {

using kernels::load;
using kernels::math_t;
using kernels::store;

template <class S>
void batch_norm_stats(const S* x, int64_t n, int64_t c, int64_t hw, math_t<S>* mean,
                      math_t<S>* var) {
  using T = math_t<S>;
  const double count = double(n * hw);
  parallel_for(
      c,
      [&](int64_t ch) {
        // Two passes in double: exact enough for f32 activations of any batch.
        // `simd` lets the sums be reordered into vector lanes.
        double s = 0;
        for (int64_t i = 0; i < n; ++i) {
          const S* p = x + (i * c + ch) * hw;
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < hw; ++j) s += load(p[j]);
        }
        double m = s / count, q = 0;
        for (int64_t i = 0; i < n; ++i) {
          const S* p = x + (i * c + ch) * hw;
#pragma omp simd reduction(+ : q)
          for (int64_t j = 0; j < hw; ++j) q += (load(p[j]) - m) * (load(p[j]) - m);
        }
        mean[ch] = T(m);
        var[ch] = T(q / count);
      },
      1);
}

template <class T>
void batch_norm_update_running(const T* mean, const T* var, int64_t c, int64_t count,
                               double momentum, double eps, T* running_mean, T* running_var,
                               T* invstd) {
  for (int64_t ch = 0; ch < c; ++ch) {
    kernels::batch_norm_running_update(mean[ch], var[ch], count, momentum, &running_mean[ch],
                                       &running_var[ch]);
    invstd[ch] = kernels::batch_norm_invstd(var[ch], eps);
  }
}

template <class T>
void batch_norm_running_stats(const T* running_mean, const T* running_var, int64_t c, double eps,
                              T* mean, T* invstd) {
  for (int64_t ch = 0; ch < c; ++ch) {
    mean[ch] = running_mean[ch];
    invstd[ch] = kernels::batch_norm_invstd(running_var[ch], eps);
  }
}

template <class S, class T>
void batch_norm_apply(const S* x, int64_t n, int64_t c, int64_t hw, const T* mean, const T* invstd,
                      const T* gamma, const T* beta, const S* residual, bool relu, S* y) {
  kernels::with_flags(residual != nullptr, relu, [&](auto has_residual, auto has_relu) {
    constexpr bool kResidual = decltype(has_residual)::value, kRelu = decltype(has_relu)::value;
    parallel_for(
        n * c,
        [&](int64_t nc) {
          const kernels::BatchNormAffine<T> a =
              kernels::batch_norm_affine(nc % c, mean, invstd, gamma, beta);
          const S* p = x + nc * hw;
          const S* r = kResidual ? residual + nc * hw : nullptr;
          S* q = y + nc * hw;
          for (int64_t j = 0; j < hw; ++j)
            q[j] = store<S>(kernels::batch_norm_output<kResidual, kRelu>(
                load(p[j]), a, kResidual ? load(r[j]) : T(0)));
        },
        16);
  });
}

template <class S, class T>
void batch_norm_backward(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c, int64_t hw,
                         const T* mean, const T* invstd, const T* gamma, bool training, S* dx,
                         T* dgamma, T* dbeta) {
  const double count = double(n * hw);
  kernels::with_flag(relu_y != nullptr, [&](auto masked) {
    constexpr bool kMasked = decltype(masked)::value;
    parallel_for(
        c,
        [&](int64_t ch) {
          // Sums in double, as for the statistics, over kLanes interleaved
          // partial sums added in a fixed order: the order is the code's, not
          // the vectoriser's, so the masked (fused) and plain instantiations
          // sum the same values bit-identically, and vector lanes still apply.
          constexpr int64_t kLanes = 8;
          double lane_dy[kLanes] = {}, lane_dy_xc[kLanes] = {};
          const T m = mean[ch], is = invstd[ch];
          auto add = [&](int64_t lane, int64_t at, const S* p, int64_t j) {
            // Widened at once: GCC vectorises the masked float loop only so.
            const double g = kernels::batch_norm_upstream<kMasked>(dy, relu_y, at + j);
            lane_dy[lane] += g;
            lane_dy_xc[lane] += g * (load(p[j]) - m);
          };
          for (int64_t i = 0; i < n; ++i) {
            const int64_t at = (i * c + ch) * hw;
            const S* p = x + at;
            int64_t j = 0;
            // Lane l only ever adds to its own sums: `simd` cannot reorder them.
            for (; j + kLanes <= hw; j += kLanes) {
#pragma omp simd
              for (int64_t l = 0; l < kLanes; ++l) add(l, at, p, j + l);
            }
            for (int64_t l = 0; j < hw; ++j, ++l) add(l, at, p, j);
          }
          double sum_dy = 0, sum_dy_xc = 0;
          for (int64_t l = 0; l < kLanes; ++l) {
            sum_dy += lane_dy[l];
            sum_dy_xc += lane_dy_xc[l];
          }
          const kernels::BatchNormGrad<T> bg =
              kernels::batch_norm_grad(sum_dy, sum_dy_xc, count, is, gamma, ch, training);
          if (dgamma) dgamma[ch] = bg.dgamma;
          if (dbeta) dbeta[ch] = bg.dbeta;
          if (!dx) return;
          for (int64_t i = 0; i < n; ++i) {
            const int64_t at = (i * c + ch) * hw;
            const S* p = x + at;
            S* d = dx + at;
            for (int64_t j = 0; j < hw; ++j)
              d[j] = store<S>(
                  kernels::batch_norm_dx(kernels::batch_norm_upstream<kMasked>(dy, relu_y, at + j),
                                         load(p[j]), m, is, bg));
          }
        },
        1);
  });
}

template <class S>
void batch_norm_relu_mask(const S* dy, const S* relu_y, S* out, int64_t n) {
  parallel_for(
      n, [&](int64_t i) { out[i] = store<S>(kernels::batch_norm_upstream<true>(dy, relu_y, i)); });
}

// The per-channel kernels exist for the math types, the activation kernels
// for every storage type.
#define DML_INSTANTIATE_MATH(T)                                                                    \
  template void batch_norm_update_running<T>(const T*, const T*, int64_t, int64_t, double, double, \
                                             T*, T*, T*);                                          \
  template void batch_norm_running_stats<T>(const T*, const T*, int64_t, double, T*, T*);
#define DML_INSTANTIATE_STORAGE(S, T)                                                              \
  template void batch_norm_stats<S>(const S*, int64_t, int64_t, int64_t, T*, T*);                  \
  template void batch_norm_apply<S, T>(const S*, int64_t, int64_t, int64_t, const T*, const T*,    \
                                       const T*, const T*, const S*, bool, S*);                    \
  template void batch_norm_backward<S, T>(const S*, const S*, const S*, int64_t, int64_t, int64_t, \
                                          const T*, const T*, const T*, bool, S*, T*, T*);         \
  template void batch_norm_relu_mask<S>(const S*, const S*, S*, int64_t);
DML_INSTANTIATE_MATH(float)
DML_INSTANTIATE_MATH(double)
DML_FOR_EACH_BATCH_NORM_STORAGE(DML_INSTANTIATE_STORAGE)
#undef DML_INSTANTIATE_MATH
#undef DML_INSTANTIATE_STORAGE

}  // namespace dml::cpu
