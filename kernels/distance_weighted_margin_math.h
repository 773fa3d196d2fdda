#pragma once
// The margin loss on distance-weighted triplets (dml/losses/margin.h,
// dml/miners/distance_weighted.h) piece by piece, written once for the host
// miner, the CPU kernel and the CUDA kernel, so all three draw the same
// negatives and compute the same terms. C++17 and host/device annotated:
// .cu files include it.
//
// The batch's work is indexed by slot (a, p) = a * B + p: the slot of a
// positive pair (y[a] == y[p], a != p) holds the negative n drawn for it,
// making the triplet (a, p, n); every other slot holds -1. The draw of slot
// (a, p) is the Philox uniform at counter `first + a * B + p`, so it does not
// depend on how many pairs the batch has or in which order they are visited.
// Distances and the draws are f64 whatever the embeddings' dtype: a B x B
// matrix is nothing beside the backbone, and the miner decides on the same
// numbers on every backend.
#include <cmath>
#include <cstdint>

#include "kernels/host_device.h"
#include "kernels/philox.h"

namespace dml::kernels {

struct DistanceWeightedMargin {
  int64_t batch = 0, dim = 0;  // B, D
  double margin = 0.2;         // alpha
  double nu = 0;               // weight of the beta regulariser
  double cutoff = 0.5, nonzero_loss_cutoff = 1.4;
  bool per_class_beta = false;   // beta row = the anchor's label, else row 0
  uint64_t seed = 0, first = 0;  // Philox key and the counter of slot (0, 0)
};

// The buffers the forward fills and the backward reads (B = batch, D = dim),
// on the kernel's device.
struct DistanceWeightedMarginWork {
  double* x;           // [B, D] the L2-normalised embeddings
  double* norms;       // [B] their norms before normalising
  double* dist;        // [B, B] Euclidean distances between the rows of x
  int64_t* negatives;  // [B, B] slot (a, p)'s negative, -1 for no triplet
  double* sums;        // [4] the batch's AnchorSums (hinges, active, triplets, betas)
  double* dist_grad;   // [B, B] backward only: dL/dd
  double* x_grad;      // [B, D] backward only: dL/dx
};

// l2_normalize's eps: rows shorter than this are divided by it instead.
constexpr double kNormEps = 1e-12;

DML_HOST_DEVICE inline double slot_uniform(const DistanceWeightedMargin& c, int64_t a, int64_t p) {
  const PhiloxBlock r = philox4x32_10(c.first + uint64_t(a * c.batch + p), c.seed);
  return uniform_f64(r[0], r[1]);
}

// log(1 / q(d)) for a negative at distance d, q the density of distances
// between random points on the unit sphere in `dim` dimensions (kept in logs:
// d^(2-n) alone over- or underflows for large n); -inf (weight 0) at or
// beyond the nonzero-loss cutoff, where a margin loss would ignore it.
DML_HOST_DEVICE inline double negative_log_weight(const DistanceWeightedMargin& c, double d) {
  if (d >= c.nonzero_loss_cutoff) return -INFINITY;
  const double dc = d > c.cutoff ? d : c.cutoff;
  const double n = double(c.dim);
  return (2.0 - n) * log(dc) - (n - 3.0) / 2.0 * log(1.0 - 0.25 * dc * dc);
}

// Anchor a's negative for the uniform u: the inverse CDF over the weights
// exp(log w - max log w) of a's negatives in index order, the last weighted
// one taking any rounding remainder; uniform over all of a's negatives when
// none lies within the nonzero-loss cutoff. -1 when a has no negative.
DML_HOST_DEVICE inline int64_t select_negative(const DistanceWeightedMargin& c,
                                               const double* dist_row, const int64_t* labels,
                                               int64_t a, double u) {
  double max_log_w = -INFINITY;
  bool any_negative = false;
  for (int64_t j = 0; j < c.batch; ++j) {
    if (labels[j] == labels[a]) continue;
    any_negative = true;
    const double lw = negative_log_weight(c, dist_row[j]);
    if (lw > max_log_w) max_log_w = lw;
  }
  if (!any_negative) return -1;
  const bool weighted = max_log_w > -INFINITY;
  auto weight = [&](int64_t j) {
    return weighted ? exp(negative_log_weight(c, dist_row[j]) - max_log_w) : 1.0;
  };
  double total = 0;
  for (int64_t j = 0; j < c.batch; ++j)
    if (labels[j] != labels[a]) total += weight(j);
  const double target = u * total;
  double acc = 0;
  int64_t chosen = -1;
  for (int64_t j = 0; j < c.batch; ++j) {
    if (labels[j] == labels[a]) continue;
    const double w = weight(j);
    if (w <= 0) continue;
    chosen = j;
    acc += w;
    if (target < acc) break;
  }
  return chosen;
}

// Slot (a, p)'s negative: drawn when (a, p) is a positive pair, else -1.
DML_HOST_DEVICE inline int64_t mine_slot(const DistanceWeightedMargin& c, const double* dist,
                                         const int64_t* labels, int64_t a, int64_t p) {
  if (a == p || labels[a] != labels[p]) return -1;
  return select_negative(c, dist + a * c.batch, labels, a, slot_uniform(c, a, p));
}

DML_HOST_DEVICE inline int64_t beta_row(const DistanceWeightedMargin& c, const int64_t* labels,
                                        int64_t a) {
  return c.per_class_beta ? labels[a] : 0;
}

// The margin loss's two hinges, in its order of operations:
// [alpha + d(a,p) - beta]_+ and [alpha - d(a,n) + beta]_+.
DML_HOST_DEVICE inline double positive_hinge(const DistanceWeightedMargin& c, double d_ap,
                                             double beta) {
  const double v = d_ap - beta + c.margin;
  return v > 0 ? v : 0.0;
}
DML_HOST_DEVICE inline double negative_hinge(const DistanceWeightedMargin& c, double d_an,
                                             double beta) {
  const double v = beta - d_an + c.margin;
  return v > 0 ? v : 0.0;
}

// Anchor a's part of the loss: its hinges' sum, how many are active, its
// triplets and the sum of their betas (the regulariser's mean runs over them).
struct AnchorSums {
  double hinges = 0, active = 0, triplets = 0, betas = 0;
};
template <class T>
DML_HOST_DEVICE AnchorSums anchor_sums(const DistanceWeightedMargin& c, const double* dist,
                                       const int64_t* negatives, const int64_t* labels,
                                       const T* beta, int64_t a) {
  const int64_t b = c.batch;
  const double beta_a = double(beta[beta_row(c, labels, a)]);
  AnchorSums s;
  for (int64_t p = 0; p < b; ++p) {
    const int64_t n = negatives[a * b + p];
    if (n < 0) continue;
    const double pos = positive_hinge(c, dist[a * b + p], beta_a);
    const double neg = negative_hinge(c, dist[a * b + n], beta_a);
    s.hinges += pos + neg;
    s.active += (pos > 0 ? 1.0 : 0.0) + (neg > 0 ? 1.0 : 0.0);
    s.triplets += 1;
    s.betas += beta_a;
  }
  return s;
}

// L = hinges / max(active, 1) + nu * mean beta over the triplets; 0 without a triplet.
DML_HOST_DEVICE inline double loss_of(const DistanceWeightedMargin& c, const AnchorSums& s) {
  if (s.triplets == 0) return 0;
  return s.hinges / (s.active > 1 ? s.active : 1.0) + c.nu * (s.betas / s.triplets);
}

// The embeddings' gradient, element (i, k) before normalisation's backward:
// sum over j of (G[i, j] + G[j, i]) (x_i - x_j)[k] / d(i, j), G = dL/dd.
DML_HOST_DEVICE inline double unit_row_grad(const DistanceWeightedMargin& c, const double* x,
                                            const double* dist, const double* dist_grad, int64_t i,
                                            int64_t k) {
  const int64_t b = c.batch, dim = c.dim;
  double g = 0;
  for (int64_t j = 0; j < b; ++j) {
    const double w = dist_grad[i * b + j] + dist_grad[j * b + i];
    const double d = dist[i * b + j];
    if (w != 0 && d > 0) g += w * (x[i * dim + k] - x[j * dim + k]) / d;
  }
  return g;
}

// Through x = e / max(||e||, eps): (dx - x (x . dx)) / ||e||, or dx / eps
// where the norm was clamped (l2_normalize's clamp passes no gradient there).
DML_HOST_DEVICE inline double normalize_backward(double dx, double x, double x_dot_dx,
                                                 double norm) {
  return norm >= kNormEps ? (dx - x * x_dot_dx) / norm : dx / kNormEps;
}

// dL/dd(a, j) in units of 1 / #active: +1 when (a, j) is an active positive
// pair of a triplet, -1 for each triplet of anchor a whose active negative is j.
template <class T>
DML_HOST_DEVICE double distance_grad_units(const DistanceWeightedMargin& c, const double* dist,
                                           const int64_t* negatives, const int64_t* labels,
                                           const T* beta, int64_t a, int64_t j) {
  const int64_t b = c.batch;
  const double beta_a = double(beta[beta_row(c, labels, a)]);
  double units = 0;
  if (negatives[a * b + j] >= 0 && positive_hinge(c, dist[a * b + j], beta_a) > 0) units += 1;
  if (labels[j] != labels[a] && negative_hinge(c, dist[a * b + j], beta_a) > 0)
    for (int64_t p = 0; p < b; ++p)
      if (negatives[a * b + p] == j) units -= 1;
  return units;
}

// Anchor a's share of dL/dbeta: `units` in 1 / #active (-1 per active
// positive hinge, +1 per active negative one) and its number of triplets
// (each adds nu / #triplets through the regulariser).
struct BetaGradShare {
  double units = 0;
  int64_t triplets = 0;
};
template <class T>
DML_HOST_DEVICE BetaGradShare beta_grad_share(const DistanceWeightedMargin& c, const double* dist,
                                              const int64_t* negatives, const int64_t* labels,
                                              const T* beta, int64_t a) {
  const int64_t b = c.batch;
  const double beta_a = double(beta[beta_row(c, labels, a)]);
  BetaGradShare share;
  for (int64_t p = 0; p < b; ++p) {
    const int64_t n = negatives[a * b + p];
    if (n < 0) continue;
    share.units += (negative_hinge(c, dist[a * b + n], beta_a) > 0 ? 1.0 : 0.0) -
                   (positive_hinge(c, dist[a * b + p], beta_a) > 0 ? 1.0 : 0.0);
    ++share.triplets;
  }
  return share;
}

}  // namespace dml::kernels
