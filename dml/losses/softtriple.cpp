#include "dml/losses/softtriple.h"

#include <cmath>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_centers(const LossContext& ctx, int64_t centers_per_class) {
  check_context(SoftTripleLoss::kName, ctx);
  DML_CHECK(centers_per_class >= 1, SoftTripleLoss::kName,
            ": centers_per_class must be at least 1, got ", centers_per_class);
  const int64_t rows = ctx.num_classes * centers_per_class;
  return uniform_rows(ctx, rows, 1.0 / std::sqrt(double(rows)));
}

}  // namespace

SoftTripleLoss::SoftTripleLoss(const LossContext& ctx, SoftTripleParams params)
    : SoftTripleLoss(initial_centers(ctx, params.centers_per_class), params) {}

SoftTripleLoss::SoftTripleLoss(Tensor centers, SoftTripleParams params)
    : ProxyLoss(kName, "centers", std::move(centers), params.centers_per_class), params_(params) {}

Tensor SoftTripleLoss::forward(const Tensor& embeddings, const Tensor& labels,
                               const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  const int64_t batch = embeddings.shape()[0], classes = num_classes(),
                k = params_.centers_per_class;
  Tensor centers = rows_for(embeddings);
  Tensor sim = cosine_similarities(embeddings, centers).reshape({batch, classes, k});
  Tensor relaxed = sum(softmax(sim * (1.0 / params_.gamma), 2) * sim, {2});  // [B, C]
  Tensor margins = one_hot(labels, classes, relaxed.dtype()) * params_.margin;
  Tensor loss = cross_entropy((relaxed - margins) * params_.la, labels);
  if (params_.tau > 0 && k > 1) loss = loss + center_regulariser(centers) * params_.tau;
  return loss;
}

Tensor SoftTripleLoss::center_regulariser(const Tensor& centers) const {
  // Per class, so the cost is C K^2 D rather than (C K)^2 D.
  const int64_t classes = num_classes(), k = params_.centers_per_class;
  Tensor gram =
      sphere_similarities(centers.reshape({classes, k, centers.shape()[1]}));  // [C, K, K]
  Tensor distances = sqrt((2 + 1e-5) - gram * 2.0);
  // Above the diagonal: each unordered pair of centers once.
  Tensor pairs = upper_triangle(k, 1, centers.dtype(), centers.device());
  return sum(distances * pairs) / double(classes * k * (k - 1));
}

std::string SoftTripleLoss::describe() const {
  return describe_with({{"centers_per_class", double(params_.centers_per_class)},
                        {"la", params_.la},
                        {"gamma", params_.gamma},
                        {"tau", params_.tau},
                        {"margin", params_.margin}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const SoftTripleParams softtriple;
  return LossEntry{
      SoftTripleLoss::kName,
      LossKind::proxy,
      "Qian et al. 2019: cross-entropy over a softmax of K centers per class (lr multiplier 100)",
      {ParamSpec::whole("centers_per_class", double(softtriple.centers_per_class), 1, 1000,
                        "K, centers of each class"),
       ParamSpec::positive("la", softtriple.la, "lambda, the logit scale"),
       ParamSpec::positive("gamma", softtriple.gamma, "softmax temperature over a class's centers"),
       ParamSpec::non_negative("tau", softtriple.tau, "weight of the center regulariser"),
       ParamSpec::non_negative("margin", softtriple.margin, "delta, subtracted from the target")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<SoftTripleLoss>(
            ctx, SoftTripleParams{int64_t(p.at("centers_per_class")), p.at("la"), p.at("gamma"),
                                  p.at("tau"), p.at("margin")});
      }};
}());

}  // namespace

}  // namespace dml::losses
