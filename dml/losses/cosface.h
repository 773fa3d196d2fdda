#pragma once
// CosFace (Wang et al., "CosFace: Large Margin Cosine Loss for Deep Face
// Recognition", CVPR 2018): cross-entropy over s * (cos(theta_c) - m [c = y])
// with L2-normalised embeddings and class weights.
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct CosFaceParams {
  double scale = 64;     // s (paper: 64).
  double margin = 0.35;  // m (paper: 0.35).
};

class CosFaceLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "cosface";
  // Weights [num_classes, D] Xavier-uniform, as ArcFace's.
  CosFaceLoss(const LossContext& ctx, CosFaceParams params = {});
  explicit CosFaceLoss(Tensor weights, CosFaceParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  const CosFaceParams& params() const { return params_; }

 private:
  CosFaceParams params_;
};

}  // namespace dml::losses
