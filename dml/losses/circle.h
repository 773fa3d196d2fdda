#pragma once
// Circle loss (Sun et al., "Circle Loss: A Unified Perspective of Pair
// Similarity Optimization", CVPR 2020), pair-based form. On the cosine
// similarity s of L2-normalised embeddings, for each anchor i:
//   a_p = [1 + m - s_p]_+,  a_n = [s_n + m]_+     (weights, no gradient)
//   l_i = log(1 + sum_{n in N_i} exp(gamma a_n (s_n - m))
//                 * sum_{p in P_i} exp(-gamma a_p (s_p - (1 - m))))
//   L = mean of l_i over the anchors that have both a positive and a negative
// (0 when none has). Without a miner P_i and N_i hold every pair of the batch.
// A pair mined twice counts once.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct CircleParams {
  double m = 0.25;     // relaxation margin
  double gamma = 256;  // scale
};

class CircleLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "circle";
  explicit CircleLoss(CircleParams params = {}) : PairBasedLoss(kName), params_(params) {}
  std::string describe() const override;

 private:
  // The loss on `pairs` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  CircleParams params_;
};

}  // namespace dml::losses
