#pragma once
// SoftTriple (Qian et al., "SoftTriple Loss: Deep Metric Learning Without
// Triplet Sampling", ICCV 2019). Each class has K centers; a sample's
// similarity to class c relaxes the max over its centers to a softmax-
// weighted mean, S_c = sum_k softmax_k(cos_ck / gamma) cos_ck, and the loss is
//   cross_entropy(la * (S - margin [c = y]), y)
//   + tau * sum_c sum_{t < s} sqrt(2 + 1e-5 - 2 <w_ct, w_cs>) / (C K (K - 1))
// with normalised embeddings and centers. The second term (skipped when
// tau = 0 or K = 1) pulls a class's centers together so redundant ones merge;
// the 1e-5 keeps its gradient finite where two centers coincide, as in the
// authors' code.
#include <string>

#include "dml/losses/proxy_loss.h"

namespace dml::losses {

struct SoftTripleParams {
  int64_t centers_per_class = 10;  // K (paper: 10).
  double la = 20;                  // lambda, logit scale (paper: 20).
  double gamma = 0.1;              // softmax temperature over centers (paper: 0.1).
  double tau = 0.2;                // weight of the center regulariser (paper: 0.2).
  double margin = 0.01;            // delta (paper: 0.01).
};

class SoftTripleLoss : public ProxyLoss {
 public:
  static constexpr const char* kName = "softtriple";
  // Centers [num_classes * K, D], class-major (row c K + k is center k of
  // class c), ~ U(+-1/sqrt(num_classes K)) as the authors' kaiming_uniform_(a
  // = sqrt(5)) on their [D, num_classes K] matrix.
  SoftTripleLoss(const LossContext& ctx, SoftTripleParams params = {});
  explicit SoftTripleLoss(Tensor centers, SoftTripleParams params = {});

  Tensor forward(const Tensor& embeddings, const Tensor& labels,
                 const miners::MinedTuples* mined = nullptr) override;
  std::string describe() const override;
  // The authors train the centers at 1e-2 against the model's 1e-4.
  double default_lr_multiplier() const override { return 100; }
  const SoftTripleParams& params() const { return params_; }

 private:
  Tensor center_regulariser(const Tensor& centers) const;

  SoftTripleParams params_;
};

}  // namespace dml::losses
