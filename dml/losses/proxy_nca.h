#pragma once
// Proxy-NCA (Movshovitz-Attias et al., "No Fuss Distance Metric Learning
// using Proxies", ICCV 2017), in the form of Roth et al. 2020 ("Revisiting
// Training Strategies and Generalization Performance in Deep Metric
// Learning"): embeddings and proxies are L2-normalised and scaled to radius
// s, and with d(a, b) = |a - b|^2 each sample's loss is
//   d(x, p_y) + log sum_{c != y} exp(-d(x, p_c))
// (the positive proxy is not in the denominator, as in the paper), averaged
// over the batch. Since d = 2 s^2 (1 - cos), this is a cross-entropy-like
// term on 2 s^2 cos whose constant parts cancel.
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct ProxyNcaParams {
  // Radius of embeddings and proxies after normalisation (Roth et al.: 3);
  // acts as an inverse temperature (logits are 2 scale^2 cos).
  double scale = 3;
};

class ProxyNcaLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "proxy_nca";
  // Proxies [num_classes, D] ~ N(0, 1/64) from ctx.gen, as Roth et al.'s code
  // (randn / 8). Needs at least two classes (one positive, one negative).
  ProxyNcaLoss(const LossContext& ctx, ProxyNcaParams params = {});
  // Given initial proxies [num_classes, D].
  explicit ProxyNcaLoss(Tensor proxies, ProxyNcaParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  // Roth et al. train the proxies with 50x the model's learning rate.
  double default_lr_multiplier() const override { return 50; }
  const ProxyNcaParams& params() const { return params_; }

 private:
  ProxyNcaParams params_;
};

}  // namespace dml::losses
