#pragma once
// ArcFace (Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face
// Recognition", CVPR 2019): cross-entropy over s * cos(theta_c) with the
// target's angle widened by m: s * cos(theta_y + m). cos(theta + m) comes
// from cos and sin = sqrt(1 - cos^2) (cos cos m - sin sin m), so no acos is
// needed. Past theta_y + m = pi, cos(theta + m) would grow again as theta
// grows, so there the target logit is cos - m sin(m) instead (the standard
// threshold of the reference implementation); the easy-margin variant keeps
// cos wherever cos <= 0.
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct ArcFaceParams {
  double scale = 64;         // s (paper: 64).
  double margin = 0.5;       // m in radians (paper: 0.5).
  bool easy_margin = false;  // paper: off.
};

class ArcFaceLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "arcface";
  // Weights [num_classes, D] Xavier-uniform, U(+-sqrt(6 / (num_classes + D))),
  // as the reference implementation.
  ArcFaceLoss(const LossContext& ctx, ArcFaceParams params = {});
  explicit ArcFaceLoss(Tensor weights, ArcFaceParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  const ArcFaceParams& params() const { return params_; }

 private:
  ArcFaceParams params_;
};

}  // namespace dml::losses
