#include "dml/losses/normalized_softmax.h"

#include <cmath>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
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
  Tensor cos = cosine_similarities(embeddings, rows_for(embeddings));
  return cross_entropy(cos * (1.0 / params_.temperature), labels);
}

std::string NormalizedSoftmaxLoss::describe() const {
  return describe_with({{"temperature", params_.temperature}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const NormalizedSoftmaxParams normalized_softmax;
  return LossEntry{
      NormalizedSoftmaxLoss::kName,
      LossKind::proxy,
      "Zhai & Wu 2019: cross-entropy over cosines to class weights / temperature",
      {ParamSpec::positive("temperature", normalized_softmax.temperature, "divides the cosines")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<NormalizedSoftmaxLoss>(
            ctx, NormalizedSoftmaxParams{p.at("temperature")});
      }};
}());

}  // namespace

}  // namespace dml::losses
