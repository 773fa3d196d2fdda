#include "kernels/cpu/distance_weighted_margin.h"

#include <cmath>
#include <vector>

#include "base/parallel.h"

namespace dml::cpu {

using kernels::DistanceWeightedMargin;
using kernels::DistanceWeightedMarginWork;

void distance_weighted_negatives(const DistanceWeightedMargin& c, const double* dist,
                                 const int64_t* labels, double* log_weights, int64_t* negatives) {
  const int64_t b = c.batch;
  parallel_for(b, [&](int64_t a) {
    for (int64_t j = 0; j < b; ++j)
      log_weights[a * b + j] = kernels::slot_log_weight(c, dist, labels, a, j);
    for (int64_t p = 0; p < b; ++p)
      negatives[a * b + p] = kernels::mine_slot(c, log_weights, labels, a, p);
  });
}

template <class T>
void distance_weighted_margin_forward(const T* embeddings, const int64_t* labels, const T* beta,
                                      const DistanceWeightedMargin& c,
                                      const DistanceWeightedMarginWork& work, T* loss) {
  const int64_t b = c.batch, dim = c.dim;
  parallel_for(b, [&](int64_t i) {
    const T* e = embeddings + i * dim;
    double sq = 0;
    for (int64_t k = 0; k < dim; ++k) sq += double(e[k]) * double(e[k]);
    const double norm = std::sqrt(sq);
    work.norms[i] = norm;
    const double divisor = norm > kernels::kNormEps ? norm : kernels::kNormEps;
    for (int64_t k = 0; k < dim; ++k) work.x[i * dim + k] = double(e[k]) / divisor;
  });
  // The upper triangle, mirrored (squared_distance is symmetric bit for bit).
  parallel_for(b, [&](int64_t i) {
    work.dist[i * b + i] = 0;
    for (int64_t j = i + 1; j < b; ++j)
      work.dist[i * b + j] = work.dist[j * b + i] =
          std::sqrt(kernels::squared_distance(work.x + i * dim, work.x + j * dim, dim));
  });
  distance_weighted_negatives(c, work.dist, labels, work.log_weights, work.negatives);
  kernels::AnchorSums total;
  for (int64_t a = 0; a < b; ++a) {
    const kernels::AnchorSums s =
        kernels::anchor_sums(c, work.dist, work.negatives, labels, beta, a);
    total.hinges += s.hinges;
    total.active += s.active;
    total.triplets += s.triplets;
    total.betas += s.betas;
  }
  work.sums[0] = total.hinges;
  work.sums[1] = total.active;
  work.sums[2] = total.triplets;
  work.sums[3] = total.betas;
  *loss = T(kernels::loss_of(c, total));
}

template <class T>
void distance_weighted_margin_backward(const T* grad_loss, const int64_t* labels, const T* beta,
                                       int64_t beta_rows, const DistanceWeightedMargin& c,
                                       const DistanceWeightedMarginWork& work, T* grad_embeddings,
                                       T* grad_beta) {
  const int64_t b = c.batch, dim = c.dim;
  const kernels::GradScales scales = kernels::grad_scales(c, double(*grad_loss), work.sums);
  parallel_for(b, [&](int64_t a) {
    kernels::anchor_distance_grads(c, work.dist, work.negatives, labels, beta, a, scales.per_active,
                                   work.dist_grad + a * b);
  });
  parallel_for(b, [&](int64_t i) {
    double* dx = work.x_grad + i * dim;
    const double* x = work.x + i * dim;
    for (int64_t k = 0; k < dim; ++k) dx[k] = 0;
    for (int64_t j = 0; j < b; ++j) {
      const double w = kernels::row_grad_weight(c, work.dist, work.dist_grad, i, j);
      if (w == 0) continue;
      const double* xj = work.x + j * dim;
      for (int64_t k = 0; k < dim; ++k) dx[k] += w * (x[k] - xj[k]);
    }
    double x_dot_dx = 0;
    for (int64_t k = 0; k < dim; ++k) x_dot_dx += x[k] * dx[k];
    for (int64_t k = 0; k < dim; ++k)
      grad_embeddings[i * dim + k] =
          T(kernels::normalize_backward(dx[k], x[k], x_dot_dx, work.norms[i]));
  });
  // Anchors in index order, so each beta row's sum has one fixed order.
  std::vector<double> beta_grad(size_t(beta_rows), 0.0);
  for (int64_t a = 0; a < b; ++a)
    beta_grad[size_t(kernels::beta_row(c, labels, a))] +=
        kernels::anchor_beta_grad(c, work.dist, work.negatives, labels, beta, a, scales);
  for (int64_t r = 0; r < beta_rows; ++r) grad_beta[r] = T(beta_grad[size_t(r)]);
}

#define DML_INSTANTIATE(T)                                                                        \
  template void distance_weighted_margin_forward<T>(const T*, const int64_t*, const T*,           \
                                                    const DistanceWeightedMargin&,                \
                                                    const DistanceWeightedMarginWork&, T*);       \
  template void distance_weighted_margin_backward<T>(const T*, const int64_t*, const T*, int64_t, \
                                                     const DistanceWeightedMargin&,               \
                                                     const DistanceWeightedMarginWork&, T*, T*);
DML_INSTANTIATE(float)
DML_INSTANTIATE(double)
#undef DML_INSTANTIATE

}  // namespace dml::cpu
