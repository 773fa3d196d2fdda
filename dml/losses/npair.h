#pragma once
// The N-pair family, on raw (not normalised) embeddings with an L2 penalty:
//
// N-pair loss (Sohn, "Improved Deep Metric Learning with Multi-class N-pair
// Loss Objective", NeurIPS 2016). The batch gives N pairs (a_i, q_i), one per
// class that has two samples; the positives of the other pairs are the
// negatives of a_i:
//   L_npair = 1/N sum_i log(1 + sum_{j != i} exp(a_i . q_j - a_i . q_i))
//   L = L_npair + l2_reg * mean over the 2N embeddings of ||x||^2
//
// Angular loss (Wang, Zhou, Wen, Liu & Lin, "Deep Metric Learning with
// Angular Loss", ICCV 2017), in its N-pair form (eq. 8) and combined with
// N-pair as the paper's best variant (section 3.5, lambda = 2):
//   f_ij = 4 tan^2(alpha) (a_i + q_i) . q_j - 2 (1 + tan^2(alpha)) a_i . q_i
//   L_ang = 1/N sum_i log(1 + sum_{j != i} exp(f_ij))
//   L = L_npair + angular_weight * L_ang + l2_reg * mean ||x||^2
//
// The pairs: for each class, in the order classes first appear among the
// positive pairs, the first positive pair of that class (without a miner:
// the class's first two samples in batch order; with a miner: its first
// mined positive pair, negative pairs being unused). Fewer than two pairs
// give no negative and the loss is 0. As the negatives are the other pairs'
// positives, rows beyond some anchor rows would never act as negatives: the
// family takes no anchor rows (Loss::takes_anchor_rows).
#include <string>

#include "dml/losses/loss.h"

namespace dml::losses {

struct NPairParams {
  double l2_reg = 0.005;  // Roth et al. 2020 (Sohn's code: 0.002)
};

class NPairLoss : public Loss {
 public:
  static constexpr const char* kName = "npair";
  explicit NPairLoss(NPairParams params = {}) : params_(params) {}
  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  bool takes_anchor_rows() const override { return false; }

 private:
  NPairParams params_;
};

struct AngularParams {
  double alpha = 45;          // degrees (Roth et al. 2020; the paper tries 36-55)
  double angular_weight = 2;  // lambda of L_npair + lambda L_ang
  double l2_reg = 0.005;
};

class AngularLoss : public Loss {
 public:
  static constexpr const char* kName = "angular";
  explicit AngularLoss(AngularParams params = {}) : params_(params) {}
  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  bool takes_anchor_rows() const override { return false; }

 private:
  AngularParams params_;
};

}  // namespace dml::losses
