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

#include "base/host_device.h"
#include "base/philox.h"

namespace dml::kernels {

// Filled by the engine op from the caller's options (their defaults and
// meaning: engine/distance_weighted_margin.h).
struct DistanceWeightedMargin {
  int64_t batch = 0, dim = 0;  // B, D
  double margin = 0;           // alpha
  double nu = 0;               // weight of the beta regulariser
  double cutoff = 0, nonzero_loss_cutoff = 0;
  bool per_class_beta = false;   // beta row = the anchor's label, else row 0
  uint64_t seed = 0, first = 0;  // Philox key and the counter of slot (0, 0)
  // CUDA only: a device counter added to `first` when the kernels run (a
  // captured graph's, advanced by every replay; engine/cuda_graph.h), or null.
  const uint64_t* first_base = nullptr;
};

// The buffers the forward fills and the backward reads (B = batch, D = dim),
// on the kernel's device.
struct DistanceWeightedMarginWork {
  double* x;            // [B, D] the L2-normalised embeddings
  double* norms;        // [B] their norms before normalising
  double* dist;         // [B, B] Euclidean distances between the rows of x
  double* log_weights;  // [B, B] slot_log_weight of every (a, j)
  int64_t* negatives;   // [B, B] slot (a, p)'s negative, -1 for no triplet
  double* sums;         // [4] the batch's AnchorSums (hinges, active, triplets, betas)
  double* dist_grad;    // [B, B] backward only: dL/dd
  double* x_grad;       // [B, D] backward only: dL/dx
};

// l2_normalize's eps: rows shorter than this are divided by it instead.
constexpr double kNormEps = 1e-12;

// ||x_i - x_j||^2 over four interleaved partial sums (independent chains the
// CPU overlaps), added in one fixed order on every backend.
DML_HOST_DEVICE inline double squared_distance(const double* xi, const double* xj, int64_t dim) {
  double s[4] = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= dim; k += 4)
    for (int l = 0; l < 4; ++l) {
      const double diff = xi[k + l] - xj[k + l];
      s[l] += diff * diff;
    }
  for (; k < dim; ++k) {
    const double diff = xi[k] - xj[k];
    s[0] += diff * diff;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

DML_HOST_DEVICE inline double slot_uniform(const DistanceWeightedMargin& c, int64_t a, int64_t p) {
  const PhiloxBlock r = philox4x32_10(c.first + uint64_t(a * c.batch + p), c.seed);
  return uniform_f64(r[0], r[1]);
}

// log(1 / q(d)) for j as a's negative, at distance d = dist[a, j]; q is the
// density of distances between random points on the unit sphere in `dim`
// dimensions (kept in logs: d^(2-n) alone over- or underflows for large n).
// -inf (weight 0) at or beyond the nonzero-loss cutoff, where a margin loss
// would ignore the negative, and for a j of a's own class.
DML_HOST_DEVICE inline double slot_log_weight(const DistanceWeightedMargin& c, const double* dist,
                                              const int64_t* labels, int64_t a, int64_t j) {
  const double d = dist[a * c.batch + j];
  if (labels[j] == labels[a] || d >= c.nonzero_loss_cutoff) return -INFINITY;
  const double dc = d > c.cutoff ? d : c.cutoff;
  const double n = double(c.dim);
  // ::log and ::exp: inside namespace dml a plain log would find the Tensor op.
  return (2.0 - n) * ::log(dc) - (n - 3.0) / 2.0 * ::log(1.0 - 0.25 * dc * dc);
}

// Anchor a's negative for the uniform u, from a's row of log weights: the
// inverse CDF over the weights exp(log w - max log w) of a's negatives in
// index order, the last weighted one taking any rounding remainder; uniform
// over all of a's negatives when none lies within the nonzero-loss cutoff.
// -1 when a has no negative.
DML_HOST_DEVICE inline int64_t select_negative(const DistanceWeightedMargin& c,
                                               const double* log_weight_row, const int64_t* labels,
                                               int64_t a, double u) {
  double max_log_w = -INFINITY;
  bool any_negative = false;
  for (int64_t j = 0; j < c.batch; ++j) {
    if (labels[j] == labels[a]) continue;
    any_negative = true;
    if (log_weight_row[j] > max_log_w) max_log_w = log_weight_row[j];
  }
  if (!any_negative) return -1;
  const bool weighted = max_log_w > -INFINITY;
  auto weight = [&](int64_t j) { return weighted ? ::exp(log_weight_row[j] - max_log_w) : 1.0; };
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
DML_HOST_DEVICE inline int64_t mine_slot(const DistanceWeightedMargin& c, const double* log_weights,
                                         const int64_t* labels, int64_t a, int64_t p) {
  if (a == p || labels[a] != labels[p]) return -1;
  return select_negative(c, log_weights + a * c.batch, labels, a, slot_uniform(c, a, p));
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

// The weight of x_i - x_j in row i's gradient: dL/dx_i = sum over j of
// (G[i, j] + G[j, i]) / d(i, j) * (x_i - x_j), G = dL/dd (0 where d = 0:
// the distance's gradient there is taken as 0, as safe_sqrt's).
DML_HOST_DEVICE inline double row_grad_weight(const DistanceWeightedMargin& c, const double* dist,
                                              const double* dist_grad, int64_t i, int64_t j) {
  const int64_t b = c.batch;
  const double w = dist_grad[i * b + j] + dist_grad[j * b + i];
  const double d = dist[i * b + j];
  return w != 0 && d > 0 ? w / d : 0.0;
}

// Through x = e / max(||e||, eps): (dx - x (x . dx)) / ||e||, or dx / eps
// where the norm was clamped (l2_normalize's clamp passes no gradient there).
DML_HOST_DEVICE inline double normalize_backward(double dx, double x, double x_dot_dx,
                                                 double norm) {
  return norm >= kNormEps ? (dx - x * x_dot_dx) / norm : dx / kNormEps;
}

// Row a of G = dL/dd: for each triplet (a, p, n), +per_active at (a, p) if
// its positive hinge is active and -per_active at (a, n) if its negative one
// is (per_active = dL/dloss over the number of active hinges).
template <class T>
DML_HOST_DEVICE void anchor_distance_grads(const DistanceWeightedMargin& c, const double* dist,
                                           const int64_t* negatives, const int64_t* labels,
                                           const T* beta, int64_t a, double per_active,
                                           double* row) {
  const int64_t b = c.batch;
  const double beta_a = double(beta[beta_row(c, labels, a)]);
  for (int64_t j = 0; j < b; ++j) row[j] = 0;
  for (int64_t p = 0; p < b; ++p) {
    const int64_t n = negatives[a * b + p];
    if (n < 0) continue;
    if (positive_hinge(c, dist[a * b + p], beta_a) > 0) row[p] += per_active;
    if (negative_hinge(c, dist[a * b + n], beta_a) > 0) row[n] -= per_active;
  }
}

// What one unit of the backward weighs: dL/d(one active hinge) =
// dL/dloss / max(#active, 1), and the regulariser's dL/dbeta_a per triplet =
// dL/dloss * nu / #triplets. Both 0 without a triplet (the loss is then a
// constant 0).
struct GradScales {
  double per_active = 0, per_triplet = 0;
};
DML_HOST_DEVICE inline GradScales grad_scales(const DistanceWeightedMargin& c, double grad_loss,
                                              const double* sums) {
  const double active = sums[1], triplets = sums[2];
  if (!(triplets > 0)) return {};
  return {grad_loss / (active > 1 ? active : 1.0), grad_loss * c.nu / triplets};
}

// Anchor a's part of dL/dbeta_a: per triplet, -per_active if its positive
// hinge is active, +per_active if its negative one is, and per_triplet.
template <class T>
DML_HOST_DEVICE double anchor_beta_grad(const DistanceWeightedMargin& c, const double* dist,
                                        const int64_t* negatives, const int64_t* labels,
                                        const T* beta, int64_t a, const GradScales& scales) {
  const int64_t b = c.batch;
  const double beta_a = double(beta[beta_row(c, labels, a)]);
  double g = 0;
  for (int64_t p = 0; p < b; ++p) {
    const int64_t n = negatives[a * b + p];
    if (n < 0) continue;
    if (positive_hinge(c, dist[a * b + p], beta_a) > 0) g -= scales.per_active;
    if (negative_hinge(c, dist[a * b + n], beta_a) > 0) g += scales.per_active;
    g += scales.per_triplet;
  }
  return g;
}

}  // namespace dml::kernels
