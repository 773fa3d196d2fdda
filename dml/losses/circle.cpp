#include "dml/losses/circle.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor CircleLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                              const miners::Pairs& pairs, AnchorRows rows) {
  AnchorMasks masks = anchor_masks(pairs, rows, embeddings.size(0), embeddings.device());
  if (masks.num_valid == 0) return zero_loss(embeddings, *this);
  const double m = params_.m, gamma = params_.gamma;
  Tensor s = sphere_similarities(embeddings, rows);
  // The weights are constants of the step (the authors' code detaches them).
  Tensor s_fixed = s.detach();
  Tensor alpha_p = relu((1 + m) - s_fixed), alpha_n = relu(s_fixed + m);
  Tensor logit_p = alpha_p * (s - (1 - m)) * -gamma;
  Tensor logit_n = alpha_n * (s - m) * gamma;
  Tensor per_anchor = log1p_exp(masked_logsumexp(logit_p, masks.pos, false) +
                                masked_logsumexp(logit_n, masks.neg, false));
  return sum_over_valid(per_anchor, masks) / double(masks.num_valid);
}

std::string CircleLoss::describe() const {
  return describe_params(kName, {{"m", params_.m}, {"gamma", params_.gamma}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const CircleParams circle;
  return LossEntry{CircleLoss::kName,
                   LossKind::tuple,
                   "Sun et al. 2020: self-paced weighting of pair similarities",
                   {ParamSpec::real("m", circle.m, 0, 1, "relaxation margin"),
                    ParamSpec::positive("gamma", circle.gamma, "scale")},
                   [](const LossContext&, const LossParams& p) {
                     return std::make_unique<CircleLoss>(CircleParams{p.at("m"), p.at("gamma")});
                   }};
}());

}  // namespace

}  // namespace dml::losses
