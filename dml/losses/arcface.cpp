#include "dml/losses/arcface.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "dml/losses/param_reader.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_weights(const LossContext& ctx) {
  check_context(ArcFaceLoss::kName, ctx);
  return xavier_uniform_rows(ctx, ctx.num_classes);
}

}  // namespace

ArcFaceLoss::ArcFaceLoss(const LossContext& ctx, ArcFaceParams params)
    : ArcFaceLoss(initial_weights(ctx), params) {}

ArcFaceLoss::ArcFaceLoss(Tensor weights, ArcFaceParams params)
    : ProxyLoss(kName, "weights", std::move(weights)), params_(params) {}

Tensor ArcFaceLoss::forward(const Tensor& embeddings, const Tensor& labels,
                            const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  const double m = params_.margin;
  Tensor cos = cosine_logits(embeddings, rows_for(embeddings));
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
  std::ostringstream os;
  os << kName << "(scale=" << params_.scale << ", margin=" << params_.margin
     << ", easy_margin=" << params_.easy_margin << ", classes=" << num_classes() << ")";
  return os.str();
}

std::unique_ptr<Loss> make_arcface_loss(const LossContext& ctx,
                                        const std::map<std::string, double>& params) {
  ParamReader read(ArcFaceLoss::kName, params);
  ArcFaceParams p;
  p.scale = read.real("scale", p.scale, Range::positive());
  p.margin = read.real("margin", p.margin, Range::closed(0, std::numbers::pi / 2));
  p.easy_margin = read.flag("easy_margin", p.easy_margin);
  read.finish();
  return std::make_unique<ArcFaceLoss>(ctx, p);
}

}  // namespace dml::losses
