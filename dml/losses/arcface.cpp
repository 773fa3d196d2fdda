#include "dml/losses/arcface.h"

#include <cmath>
#include <numbers>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "engine/ops.h"

namespace dml::losses {

ArcFaceLoss::ArcFaceLoss(const LossContext& ctx, ArcFaceParams params)
    : ArcFaceLoss(xavier_uniform_class_weights(kName, ctx), params) {}

ArcFaceLoss::ArcFaceLoss(Tensor weights, ArcFaceParams params)
    : ProxyLoss(kName, "weights", std::move(weights)), params_(params) {}

Tensor ArcFaceLoss::forward(const Tensor& embeddings, const Tensor& labels,
                            const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  const double m = params_.margin;
  Tensor cos = cosine_similarities(embeddings, rows_for(embeddings));
  // Only the target column gets the margin: [B, 1].
  Tensor cos_t = gather(cos, 1, labels.unsqueeze(1));
  Tensor sin_t = safe_sqrt(1.0 - cos_t * cos_t);
  Tensor widened = cos_t * std::cos(m) - sin_t * std::sin(m);  // cos(theta + m)
  // theta + m < pi  <=>  cos > cos(pi - m); easy margin: theta < pi / 2.
  const double threshold = params_.easy_margin ? 0.0 : std::cos(std::numbers::pi - m);
  Tensor beyond = params_.easy_margin ? cos_t : cos_t - m * std::sin(m);
  Tensor target = where(gt(cos_t, full({}, threshold, cos_t.dtype())), widened, beyond);
  Tensor logits = where(target_mask(labels), target, cos) * params_.scale;
  return cross_entropy(logits, labels);
}

std::string ArcFaceLoss::describe() const {
  return describe_with({{"scale", params_.scale},
                        {"margin", params_.margin},
                        {"easy_margin", params_.easy_margin ? 1.0 : 0.0}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const ArcFaceParams arcface;
  return LossEntry{
      ArcFaceLoss::kName,
      LossKind::proxy,
      "Deng et al. 2019: cross-entropy with an additive angular margin on the target class",
      {ParamSpec::positive("scale", arcface.scale, "s, the logit scale"),
       ParamSpec::real("margin", arcface.margin, 0, std::numbers::pi / 2,
                       "m, added angle in radians"),
       ParamSpec::flag("easy_margin", arcface.easy_margin,
                       "margin only where the angle is below pi/2")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<ArcFaceLoss>(
            ctx, ArcFaceParams{p.at("scale"), p.at("margin"), p.at("easy_margin") != 0});
      }};
}());

}  // namespace

}  // namespace dml::losses
