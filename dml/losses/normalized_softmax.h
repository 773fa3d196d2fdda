#pragma once
// Normalized softmax (Zhai & Wu, "Classification is a Strong Baseline for
// Deep Metric Learning", BMVC 2019; arXiv 2018): cross-entropy over
// cos(x, w_c) / temperature with L2-normalised embeddings and class weights.
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct NormalizedSoftmaxParams {
  double temperature = 0.05;  // paper: 0.05.
};

class NormalizedSoftmaxLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "normalized_softmax";
  // Weights [num_classes, D] ~ U(-1/sqrt(D), 1/sqrt(D)), as the authors' code.
  NormalizedSoftmaxLoss(const LossContext& ctx, NormalizedSoftmaxParams params = {});
  explicit NormalizedSoftmaxLoss(Tensor weights, NormalizedSoftmaxParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  const NormalizedSoftmaxParams& params() const { return params_; }

 private:
  NormalizedSoftmaxParams params_;
};

}  // namespace dml::losses
