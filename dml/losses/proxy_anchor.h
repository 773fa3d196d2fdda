#pragma once
// Proxy-Anchor (Kim et al., "Proxy Anchor Loss for Deep Metric Learning",
// CVPR 2020). Each proxy is an anchor against the batch: with s = cosine
// between normalised embedding and proxy,
//   (1/|P+|) sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s - delta)))
// + (1/|P|) sum_{p in P} log(1 + sum_{x in X_p-} exp(alpha (s + delta)))
// where P+ are the proxies whose class is in the batch (so an absent class
// adds no positive term and does not dilute the mean).
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct ProxyAnchorParams {
  double alpha = 32;   // scale of the similarities (paper: 32).
  double delta = 0.1;  // margin (paper: 0.1).
};

class ProxyAnchorLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "proxy_anchor";
  // Proxies [num_classes, D] drawn as the authors' code does:
  // kaiming_normal_(mode="fan_out"), i.e. N(0, 2 / num_classes).
  ProxyAnchorLoss(const LossContext& ctx, ProxyAnchorParams params = {});
  explicit ProxyAnchorLoss(Tensor proxies, ProxyAnchorParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  // The paper trains the proxies with 100x the model's learning rate.
  double default_lr_multiplier() const override { return 100; }
  const ProxyAnchorParams& params() const { return params_; }

 private:
  ProxyAnchorParams params_;
};

}  // namespace dml::losses
