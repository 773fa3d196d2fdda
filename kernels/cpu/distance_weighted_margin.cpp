#include "kernels/cpu/distance_weighted_margin.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace dml::cpu {

using kernels::DistanceWeightedMargin;
using kernels::DistanceWeightedMarginWork;

template <class T>
void distance_weighted_margin_forward(const T* embeddings, const int64_t* labels, const T* beta,
                                      const DistanceWeightedMargin& c,
                                      const DistanceWeightedMarginWork& work, T* loss) {
  const int64_t b = c.batch, dim = c.dim;
  parallel_for(b, [&](int64_t i) {
    double sq = 0;
    for (int64_t k = 0; k < dim; ++k)
      sq += double(embeddings[i * dim + k]) * embeddings[i * dim + k];
    const double norm = std::sqrt(sq);
    work.norms[i] = norm;
    const double divisor = norm > kernels::kNormEps ? norm : kernels::kNormEps;
    for (int64_t k = 0; k < dim; ++k)
      work.x[i * dim + k] = double(embeddings[i * dim + k]) / divisor;
  });
  parallel_for(b, [&](int64_t i) {
    for (int64_t j = 0; j < b; ++j) {
      double sq = 0;
      for (int64_t k = 0; k < dim; ++k) {
        const double diff = work.x[i * dim + k] - work.x[j * dim + k];
        sq += diff * diff;
      }
      work.dist[i * b + j] = std::sqrt(sq);
    }
  });
  parallel_for(b, [&](int64_t a) {
    for (int64_t p = 0; p < b; ++p)
      work.negatives[a * b + p] = kernels::mine_slot(c, work.dist, labels, a, p);
  });
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
  const double active = work.sums[1], triplets = work.sums[2];
  // With no triplet the loss is a constant 0: every gradient is 0.
  const double g = triplets > 0 ? double(*grad_loss) : 0.0;
  const double per_active = g / (active > 1 ? active : 1.0);
  parallel_for(b, [&](int64_t a) {
    for (int64_t j = 0; j < b; ++j)
      work.dist_grad[a * b + j] =
          per_active *
          kernels::distance_grad_units(c, work.dist, work.negatives, labels, beta, a, j);
  });
  parallel_for(b, [&](int64_t i) {
    double* dx = work.x_grad + i * dim;
    const double* x = work.x + i * dim;
    double x_dot_dx = 0;
    for (int64_t k = 0; k < dim; ++k) {
      dx[k] = kernels::unit_row_grad(c, work.x, work.dist, work.dist_grad, i, k);
      x_dot_dx += x[k] * dx[k];
    }
    for (int64_t k = 0; k < dim; ++k)
      grad_embeddings[i * dim + k] =
          T(kernels::normalize_backward(dx[k], x[k], x_dot_dx, work.norms[i]));
  });
  // Anchors in index order, so each beta row's sum has one fixed order.
  const double per_triplet = triplets > 0 ? g * c.nu / triplets : 0.0;
  std::vector<double> beta_grad(size_t(beta_rows), 0.0);
  for (int64_t a = 0; a < b; ++a) {
    const kernels::BetaGradShare s =
        kernels::beta_grad_share(c, work.dist, work.negatives, labels, beta, a);
    beta_grad[size_t(kernels::beta_row(c, labels, a))] +=
        per_active * s.units + per_triplet * double(s.triplets);
  }
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
