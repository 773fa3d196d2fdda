#pragma once
// Contrastive loss (Hadsell, Chopra & LeCun 2006, in the hinge form of
// pytorch-metric-learning): on the Euclidean distance d between L2-normalised
// embeddings,
//   L = mean_{>0} [d(a, p) - pos_margin]_+  +  mean_{>0} [neg_margin - d(a, n)]_+
// over the positive pairs (a, p) and negative pairs (a, n), each mean taken
// over its active (non-zero) terms only (PML's AvgNonZeroReducer), 0 when
// there are none. Without a miner every ordered pair of the batch is used.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct ContrastiveParams {
  double pos_margin = 0.0;  // positives closer than this cost nothing
  double neg_margin = 0.5;  // negatives farther than this cost nothing
};

class ContrastiveLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "contrastive";
  explicit ContrastiveLoss(ContrastiveParams params = {}) : PairBasedLoss(kName), params_(params) {}
  std::string describe() const override;

 private:
  // The loss on `pairs` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  ContrastiveParams params_;
};

// The two hinge terms above for per-pair distances of any kind (the SNR
// contrastive loss uses them with its own distance).
Tensor contrastive_terms(const Tensor& pos_distances, const Tensor& neg_distances,
                         double pos_margin, double neg_margin);

}  // namespace dml::losses
