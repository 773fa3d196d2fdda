#pragma once
// Distance-weighted sampling (Wu, Manmatha, Smola & Krähenbühl, "Sampling
// Matters in Deep Embedding Learning", ICCV 2017). On the unit sphere in
// n = D dimensions, pairwise distances of random points have density
//   q(d) ~ d^(n-2) (1 - d^2 / 4)^((n-3)/2),
// so drawing negatives with weight 1/q(d) spreads them evenly over distance
// instead of crowding them near sqrt(2). For every positive pair (a, p) the
// miner draws one negative n of a with probability proportional to
//   w(d) = 1 / q(max(d, cutoff))   if d(a, n) < nonzero_loss_cutoff, else 0
// (the cutoff bounds the weight of near neighbours, the nonzero-loss cutoff
// drops negatives that a margin loss would ignore), and emits (a, p, n).
// When every negative of a lies beyond the nonzero-loss cutoff, n is drawn
// uniformly among a's negatives. Distances are Euclidean between
// L2-normalised embeddings. Each draw is the generator's uniform at a counter
// fixed by the pair (kernels/distance_weighted_margin_math.h, shared with the
// fused margin loss, which draws the same triplets on any device).
#include <string>

#include "dml/miners/miner.h"

namespace dml::miners {

struct DistanceWeightedParams {
  double cutoff = 0.5;
  double nonzero_loss_cutoff = 1.4;
};

class DistanceWeightedMiner : public Miner {
 public:
  static constexpr const char* kName = "distance_weighted";
  explicit DistanceWeightedMiner(DistanceWeightedParams params = {});
  MinedTuples mine(const Tensor& embeddings, const Tensor& labels, Generator& gen) override;
  std::string describe() const override;
  const DistanceWeightedParams& params() const { return params_; }

 private:
  DistanceWeightedParams params_;
};

}  // namespace dml::miners
