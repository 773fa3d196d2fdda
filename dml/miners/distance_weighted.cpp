#include "dml/miners/distance_weighted.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dml/miners/geometry.h"
#include "dml/miners/tuples.h"
#include "dml/params.h"

namespace dml::miners {

namespace {

// The probability of drawing each sample of the batch as the negative of
// anchor a, given its distances `dist` from a: B values summing to 1 (all 0
// when a has no negative).
std::vector<double> negative_probabilities(const DistanceWeightedParams& params,
                                           const std::vector<double>& dist, const Labels& y,
                                           int64_t a, int64_t dim) {
  const size_t b = dist.size();
  // log w = -log q, kept in logs: d^(2-n) alone under- or overflows for large n.
  std::vector<double> log_w(b, -std::numeric_limits<double>::infinity());
  std::vector<uint8_t> negative(b, 0);
  double max_log_w = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < b; ++j) {
    if (y[j] == y[size_t(a)]) continue;
    negative[j] = 1;
    if (dist[j] >= params.nonzero_loss_cutoff) continue;
    const double d = std::max(dist[j], params.cutoff);
    log_w[j] = (2.0 - double(dim)) * std::log(d) -
               (double(dim) - 3.0) / 2.0 * std::log(1.0 - 0.25 * d * d);
    max_log_w = std::max(max_log_w, log_w[j]);
  }
  std::vector<double> p(b, 0.0);
  const bool any_weighted = std::isfinite(max_log_w);
  double total = 0;
  for (size_t j = 0; j < b; ++j) {
    if (!negative[j]) continue;
    p[j] = any_weighted ? (std::isfinite(log_w[j]) ? std::exp(log_w[j] - max_log_w) : 0.0) : 1.0;
    total += p[j];
  }
  if (total > 0)
    for (double& v : p) v /= total;
  return p;
}

}  // namespace

DistanceWeightedMiner::DistanceWeightedMiner(DistanceWeightedParams params) : params_(params) {
  DML_CHECK(params.cutoff > 0 && params.cutoff < params.nonzero_loss_cutoff &&
                params.nonzero_loss_cutoff <= 2,
            kName,
            ": needs 0 < cutoff < nonzero_loss_cutoff <= 2 (distances on the unit sphere), got ",
            params.cutoff, " and ", params.nonzero_loss_cutoff);
}

MinedTuples DistanceWeightedMiner::mine(const Tensor& embeddings, const Tensor& labels,
                                        Generator& gen) {
  Labels y = batch_labels(embeddings, labels, kName);
  HostMatrix d = host_sphere_distances(embeddings);
  const int64_t dim = embeddings.size(1);
  Pairs pairs = all_pairs(y);
  std::vector<double> u = rand({int64_t(pairs.pos.size())}, DType::f64, &gen).to_vector<double>();
  Triplets t;
  std::vector<std::vector<double>> probs(size_t(d.n));
  for (size_t i = 0; i < pairs.pos.size(); ++i) {
    const int64_t a = pairs.pos.anchor[i];
    std::vector<double>& p = probs[size_t(a)];
    if (p.empty()) {
      std::vector<double> row(d.values.begin() + a * d.n, d.values.begin() + (a + 1) * d.n);
      p = negative_probabilities(params_, row, y, a, dim);
    }
    // Inverse CDF; the last negative takes any rounding remainder.
    double acc = 0;
    int64_t chosen = -1;
    for (int64_t j = 0; j < d.n; ++j) {
      if (p[size_t(j)] <= 0) continue;
      chosen = j;
      acc += p[size_t(j)];
      if (u[i] < acc) break;
    }
    if (chosen >= 0) t.add(a, pairs.pos.other[i], chosen);
  }
  return mined_triplets(t);
}

std::string DistanceWeightedMiner::describe() const {
  return describe_params(
      kName, {{"cutoff", params_.cutoff}, {"nonzero_loss_cutoff", params_.nonzero_loss_cutoff}});
}

}  // namespace dml::miners
