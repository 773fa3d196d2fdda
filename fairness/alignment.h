#pragma once
// finDML's embedding-space statistics of one subgroup, over pairs of its
// samples (unordered, distinct), with d(x, x') = ||f(x) - f(x')||^2:
//   intra_class  mean of d over same-class pairs
//   inter_class  mean of d over different-class pairs
//   uniformity   log mean of exp(-t d) over all pairs (Wang & Isola 2020)
// A statistic with no pair to average (a subgroup of one sample, a subgroup
// of one class for inter_class) is NaN.
//
// Exact when the subgroup has at most max_pairs pairs: the squared distances
// come from f64 GEMMs on tiles of kAlignmentTileRows rows (memory: one tile
// pair, never n x n). Above it, each statistic is estimated from max_pairs
// pairs drawn uniformly (with replacement) among the pairs of its own kind
// (same-class, different-class, any), so a rare kind is estimated as well as
// a common one; the draws come from the Generator passed in.
#include <cstdint>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::fairness {

constexpr int64_t kAlignmentTileRows = 512;

struct AlignmentStats {
  double intra_class = 0, inter_class = 0, uniformity = 0;
  bool sampled = false;
};

// embeddings: f64 [n, D] CPU (one subgroup's rows, already in the metric's
// space); labels: the class of each row.
AlignmentStats alignment_stats(const Tensor& embeddings, const std::vector<int64_t>& labels,
                               double t, int64_t max_pairs, Generator& gen);

}  // namespace dml::fairness
