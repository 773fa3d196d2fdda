#include "dml/losses/normalized_softmax.h"

#include <cmath>
#include <sstream>

#include "dml/losses/param_reader.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_weights(const LossContext& ctx) {
  check_context(NormalizedSoftmaxLoss::kName, ctx);
  return uniform_rows(ctx, ctx.num_classes, 1.0 / std::sqrt(double(ctx.embedding_dim)));
}

}  // namespace

NormalizedSoftmaxLoss::NormalizedSoftmaxLoss(const LossContext& ctx, NormalizedSoftmaxParams params)
    : NormalizedSoftmaxLoss(initial_weights(ctx), params) {}

NormalizedSoftmaxLoss::NormalizedSoftmaxLoss(Tensor weights, NormalizedSoftmaxParams params)
    : ProxyLoss(kName, "weights", std::move(weights)), params_(params) {}

Tensor NormalizedSoftmaxLoss::forward(const Tensor& embeddings, const Tensor& labels,
                                      const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  Tensor cos = cosine_logits(embeddings, rows_for(embeddings));
  return cross_entropy(cos * (1.0 / params_.temperature), labels);
}

std::string NormalizedSoftmaxLoss::describe() const {
  std::ostringstream os;
  os << kName << "(temperature=" << params_.temperature << ", classes=" << num_classes() << ")";
  return os.str();
}

std::unique_ptr<Loss> make_normalized_softmax_loss(const LossContext& ctx,
                                                   const std::map<std::string, double>& params) {
  ParamReader read(NormalizedSoftmaxLoss::kName, params);
  NormalizedSoftmaxParams p;
  p.temperature = read.real("temperature", p.temperature, Range::positive());
  read.finish();
  return std::make_unique<NormalizedSoftmaxLoss>(ctx, p);
}

}  // namespace dml::losses
