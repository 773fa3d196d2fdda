#pragma once
// Signal-to-noise-ratio contrastive loss (Yuan, Deng, Ye, Tian & Gao,
// "Signal-To-Noise Ratio: A Robust Distance Metric for Deep Metric Learning",
// CVPR 2019). The distance of b from anchor a is the noise-to-signal ratio
//   d_S(a, b) = var(b - a) / var(a)          (variances over the D features)
// on the embeddings as given (the paper's features are not normalised), in
// the contrastive form
//   L = mean_{>0} [d_S(a, p) - pos_margin]_+  +  mean_{>0} [neg_margin - d_S(a, n)]_+
//     + zero_mean_reg * mean_i |sum_k x_ik|
// the last term being the paper's regulariser that keeps features centred
// (over the rows i of the batch; with anchor rows, over those).
// Means as the contrastive loss's (active terms only). d_S is not symmetric;
// without a miner every ordered pair of the batch is used.
#include <string>

#include "dml/losses/loss.h"

namespace dml::losses {

struct SnrContrastiveParams {
  double pos_margin = 0.0;
  double neg_margin = 1.0;
  double zero_mean_reg = 0.005;  // lambda of the zero-mean regulariser
};

class SnrContrastiveLoss : public Loss {
 public:
  static constexpr const char* kName = "snr_contrastive";
  explicit SnrContrastiveLoss(SnrContrastiveParams params = {}) : params_(params) {}
  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  Tensor forward_anchored(const Tensor& embeddings, const Tensor& labels,
                          const miners::MinedTuples& tuples, int64_t begin, int64_t end) override;
  std::string describe() const override;

 private:
  // The loss on `tuples` (every pair when null), regularising `rows`.
  Tensor loss_on(const Tensor& embeddings, const Tensor& labels, const miners::MinedTuples* tuples,
                 const Tensor& rows);

  SnrContrastiveParams params_;
};

}  // namespace dml::losses
