#include "kernels/cpu/batch_norm.h"

#include "kernels/batch_norm_math.h"
#include "kernels/cpu/parallel_isa.h"

namespace dml::cpu {

using kernels::load;
using kernels::math_t;
using kernels::store;

// The kernels' loops are bodies (isa_dispatch.h) run on the active path's
// copy, one channel or one plane at a time. Where they sum in double (the
// statistics) each path's vector width orders the sums its own way, so the
// paths differ there by summation order; everything else, the backward's
// fixed-order sums included, gives the same bits on every path (no
// contraction in this file).
namespace {

template <class S>
DML_ISA_BODY void stats_channel(const S* x, int64_t n, int64_t c, int64_t hw, int64_t ch,
                                kernels::math_t<S>* mean, kernels::math_t<S>* var) {
  using T = math_t<S>;
  const double count = double(n * hw);
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
}

template <bool kResidual, bool kRelu, class S, class T>
DML_ISA_BODY void apply_plane(const S* p, const S* r, S* q, int64_t hw,
                              kernels::BatchNormAffine<T> a) {
  for (int64_t j = 0; j < hw; ++j)
    q[j] = store<S>(
        kernels::batch_norm_output<kResidual, kRelu>(load(p[j]), a, kResidual ? load(r[j]) : T(0)));
}

// The backward of one channel: the two sums, then dx.
template <bool kMasked, class S, class T>
DML_ISA_BODY void backward_channel(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c,
                                   int64_t hw, int64_t ch, const T* mean, const T* invstd,
                                   const T* gamma, bool training, S* dx, T* dgamma, T* dbeta) {
  // Sums in double, as for the statistics, over kLanes interleaved partial
  // sums added in a fixed order: the order is the code's, not the
  // vectoriser's, so the masked (fused) and plain instantiations, and every
  // path, sum the same values bit-identically, and vector lanes still apply.
  constexpr int64_t kLanes = 8;
  double lane_dy[kLanes] = {}, lane_dy_xc[kLanes] = {};
  const T m = mean[ch], is = invstd[ch];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t at = (i * c + ch) * hw;
    const S* p = x + at;
    int64_t j = 0;
    // Lane l only ever adds to its own sums: `simd` cannot reorder them.
    // (Widened at once: GCC vectorises the masked float loop only so.)
    for (; j + kLanes <= hw; j += kLanes) {
#pragma omp simd
      for (int64_t l = 0; l < kLanes; ++l) {
        const double g = kernels::batch_norm_upstream<kMasked>(dy, relu_y, at + j + l);
        lane_dy[l] += g;
        lane_dy_xc[l] += g * (load(p[j + l]) - m);
      }
    }
    for (int64_t l = 0; j < hw; ++j, ++l) {
      const double g = kernels::batch_norm_upstream<kMasked>(dy, relu_y, at + j);
      lane_dy[l] += g;
      lane_dy_xc[l] += g * (load(p[j]) - m);
    }
  }
  double sum_dy = 0, sum_dy_xc = 0;
  for (int64_t l = 0; l < kLanes; ++l) {
    sum_dy += lane_dy[l];
    sum_dy_xc += lane_dy_xc[l];
  }
  const kernels::BatchNormGrad<T> bg =
      kernels::batch_norm_grad(sum_dy, sum_dy_xc, double(n * hw), is, gamma, ch, training);
  if (dgamma) dgamma[ch] = bg.dgamma;
  if (dbeta) dbeta[ch] = bg.dbeta;
  if (!dx) return;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t at = (i * c + ch) * hw;
    const S* p = x + at;
    S* d = dx + at;
    for (int64_t j = 0; j < hw; ++j)
      d[j] = store<S>(kernels::batch_norm_dx(
          kernels::batch_norm_upstream<kMasked>(dy, relu_y, at + j), load(p[j]), m, is, bg));
  }
}

template <class S>
DML_ISA_BODY void relu_mask_body(int64_t begin, int64_t end, const S* dy, const S* relu_y, S* out) {
  for (int64_t i = begin; i < end; ++i)
    out[i] = store<S>(kernels::batch_norm_upstream<true>(dy, relu_y, i));
}

}  // namespace

template <class S>
void batch_norm_stats(const S* x, int64_t n, int64_t c, int64_t hw, math_t<S>* mean,
                      math_t<S>* var) {
  const Isa isa = active_isa();
  parallel_for(
      c, [&](int64_t ch) { run_for_isa<stats_channel<S>>(isa, x, n, c, hw, ch, mean, var); }, 1);
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
  const Isa isa = active_isa();
  kernels::with_flags(residual != nullptr, relu, [&](auto has_residual, auto has_relu) {
    constexpr bool kResidual = decltype(has_residual)::value, kRelu = decltype(has_relu)::value;
    parallel_for(
        n * c,
        [&](int64_t nc) {
          run_for_isa<apply_plane<kResidual, kRelu, S, T>>(
              isa, x + nc * hw, kResidual ? residual + nc * hw : nullptr, y + nc * hw, hw,
              kernels::batch_norm_affine(nc % c, mean, invstd, gamma, beta));
        },
        16);
  });
}

template <class S, class T>
void batch_norm_backward(const S* dy, const S* relu_y, const S* x, int64_t n, int64_t c, int64_t hw,
                         const T* mean, const T* invstd, const T* gamma, bool training, S* dx,
                         T* dgamma, T* dbeta) {
  const Isa isa = active_isa();
  kernels::with_flag(relu_y != nullptr, [&](auto masked) {
    constexpr bool kMasked = decltype(masked)::value;
    parallel_for(
        c,
        [&](int64_t ch) {
          run_for_isa<backward_channel<kMasked, S, T>>(isa, dy, relu_y, x, n, c, hw, ch, mean,
                                                       invstd, gamma, training, dx, dgamma, dbeta);
        },
        1);
  });
}

template <class S>
void batch_norm_relu_mask(const S* dy, const S* relu_y, S* out, int64_t n) {
  parallel_for_isa<relu_mask_body<S>>(n, dy, relu_y, out);
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
