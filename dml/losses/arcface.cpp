#include "dml/losses/arcface.h"

#include <cmath>
#include <numbers>

#include "dml/losses/loss_terms.h"
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

}  // namespace dml::losses
