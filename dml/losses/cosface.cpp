#include "dml/losses/cosface.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "engine/ops.h"

namespace dml::losses {

CosFaceLoss::CosFaceLoss(const LossContext& ctx, CosFaceParams params)
    : CosFaceLoss(xavier_uniform_class_weights(kName, ctx), params) {}

CosFaceLoss::CosFaceLoss(Tensor weights, CosFaceParams params)
    : ProxyLoss(kName, "weights", std::move(weights)), params_(params) {}

Tensor CosFaceLoss::forward(const Tensor& embeddings, const Tensor& labels,
                            const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  Tensor cos = cosine_similarities(embeddings, rows_for(embeddings));
  Tensor margins = one_hot(labels, num_classes(), cos.dtype()) * params_.margin;
  return cross_entropy((cos - margins) * params_.scale, labels);
}

std::string CosFaceLoss::describe() const {
  return describe_with({{"scale", params_.scale}, {"margin", params_.margin}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const CosFaceParams cosface;
  return LossEntry{
      CosFaceLoss::kName,
      LossKind::proxy,
      "Wang et al. 2018: cross-entropy with an additive cosine margin on the target class",
      {ParamSpec::positive("scale", cosface.scale, "s, the logit scale"),
       ParamSpec::real("margin", cosface.margin, 0, 1, "m, subtracted from the target cosine")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<CosFaceLoss>(ctx, CosFaceParams{p.at("scale"), p.at("margin")});
      }};
}());

}  // namespace

}  // namespace dml::losses
