#pragma once
// Margin loss (Wu, Manmatha, Smola & Krähenbühl, "Sampling Matters in Deep
// Embedding Learning", ICCV 2017). On the Euclidean distance d between
// L2-normalised embeddings and a learnable boundary beta,
//   l(a, p) = [alpha + d(a, p) - beta_a]_+      (positive pairs)
//   l(a, n) = [alpha - d(a, n) + beta_a]_+      (negative pairs)
//   L = sum of all l / #{l > 0}  +  nu * mean over the pairs of beta_a
// (0 when no pair exists; the sum alone when none is active). beta_a is one
// shared beta, or with per_class_beta the beta of the anchor's class (the
// paper's beta^(class); Roth et al. 2020 use it). Without a miner every
// ordered pair is used; mined triplets give one (a, p) and one (a, n) pair
// each, as in the paper's distance-weighted sampling setup.
//
// beta is the parameter "beta" ([1], or [num_classes]). The paper and Roth et
// al. train it with a learning rate of its own: Roth et al. use 5e-4 for
// beta against 1e-5 for the network, so default_lr_multiplier() is 50.
#include <string>

#include "dml/losses/anchored_loss.h"
#include "dml/losses/tuple_loss.h"
#include "dml/miners/tuples.h"

namespace dml::losses {

struct MarginParams {
  double margin = 0.2;          // alpha
  double beta = 1.2;            // initial beta
  double nu = 0.0;              // weight of the beta regulariser (paper: 0 for most runs)
  bool per_class_beta = false;  // one beta per training class
};

class MarginLoss : public PairBasedLoss {
 public:
  static constexpr const char* kName = "margin";
  // num_classes: needed (> 0) with per_class_beta; labels must then lie in
  // [0, num_classes). dtype: of the beta parameter (f64 for gradient checks).
  explicit MarginLoss(MarginParams params = {}, int64_t num_classes = 0, DType dtype = DType::f32);
  // With the distance-weighted miner: the fused kernel (same triplets, same value).
  Tensor forward_mined(const Tensor& embeddings, const Tensor& labels, miners::Miner& miner,
                       Generator& gen) override;
  std::string describe() const override;
  double default_lr_multiplier() const override { return 50; }

 private:
  // The loss on `pairs` (of the checked batch), anchored in `rows`.
  Tensor tuple_loss(const Tensor& embeddings, const miners::Labels& labels,
                    const miners::Pairs& pairs, AnchorRows rows) override;

  // The beta of each anchor (its class's with per_class_beta, labels already
  // checked), in `dtype`.
  Tensor betas_of(const std::vector<int64_t>& anchors, const std::vector<int64_t>& labels,
                  DType dtype) const;

  MarginParams params_;
  int64_t num_classes_;
  Tensor beta_;
};

}  // namespace dml::losses
