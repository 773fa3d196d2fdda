#include "dml/losses/cosface.h"

#include <sstream>

#include "dml/losses/param_reader.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_weights(const LossContext& ctx) {
  check_context(CosFaceLoss::kName, ctx);
  return xavier_uniform_rows(ctx, ctx.num_classes);
}

}  // namespace

CosFaceLoss::CosFaceLoss(const LossContext& ctx, CosFaceParams params)
    : CosFaceLoss(initial_weights(ctx), params) {}

CosFaceLoss::CosFaceLoss(Tensor weights, CosFaceParams params)
    : ProxyLoss(kName, "weights", std::move(weights)), params_(params) {}

Tensor CosFaceLoss::forward(const Tensor& embeddings, const Tensor& labels,
                            const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  Tensor cos = cosine_logits(embeddings, rows_for(embeddings));
  Tensor margins = one_hot(labels, num_classes(), cos.dtype()) * params_.margin;
  return cross_entropy((cos - margins) * params_.scale, labels);
}

std::string CosFaceLoss::describe() const {
  std::ostringstream os;
  os << kName << "(scale=" << params_.scale << ", margin=" << params_.margin
     << ", classes=" << num_classes() << ")";
  return os.str();
}

std::unique_ptr<Loss> make_cosface_loss(const LossContext& ctx,
                                        const std::map<std::string, double>& params) {
  ParamReader read(CosFaceLoss::kName, params);
  CosFaceParams p;
  p.scale = read.real("scale", p.scale, Range::positive());
  p.margin = read.real("margin", p.margin, Range::closed(0, 1));
  read.finish();
  return std::make_unique<CosFaceLoss>(ctx, p);
}

}  // namespace dml::losses
