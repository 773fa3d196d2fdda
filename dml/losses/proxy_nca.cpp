#include "dml/losses/proxy_nca.h"

#include <limits>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_proxies(const LossContext& ctx) {
  check_context(ProxyNcaLoss::kName, ctx, 2);
  return normal_rows(ctx, ctx.num_classes, 1.0 / 8);
}

}  // namespace

ProxyNcaLoss::ProxyNcaLoss(const LossContext& ctx, ProxyNcaParams params)
    : ProxyNcaLoss(initial_proxies(ctx), params) {}

ProxyNcaLoss::ProxyNcaLoss(Tensor proxies, ProxyNcaParams params)
    : ProxyLoss(kName, "proxies", std::move(proxies), 1, 2), params_(params) {}

Tensor ProxyNcaLoss::forward(const Tensor& embeddings, const Tensor& labels,
                             const miners::MinedTuples*) {
  check_batch(embeddings, labels);
  const double s2 = params_.scale * params_.scale;
  // -d(x, p_c) = 2 s^2 cos - 2 s^2; the constant cancels between the terms.
  Tensor logits = cosine_similarities(embeddings, rows_for(embeddings)) * (2 * s2);
  Tensor positive = gather(logits, 1, labels.unsqueeze(1));
  Tensor negatives =
      masked_fill(logits, target_mask(labels), -std::numeric_limits<double>::infinity());
  return mean(logsumexp(negatives, {1}, true) - positive);
}

std::string ProxyNcaLoss::describe() const {
  return describe_with({{"scale", params_.scale}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const ProxyNcaParams proxy_nca;
  return LossEntry{
      ProxyNcaLoss::kName,
      LossKind::proxy,
      "Movshovitz-Attias et al. 2017: NCA against one learnable proxy per class (lr multiplier "
      "50)",
      {ParamSpec::positive("scale", proxy_nca.scale,
                           "radius of embeddings and proxies, an inverse temperature")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<ProxyNcaLoss>(ctx, ProxyNcaParams{p.at("scale")});
      }};
}());

}  // namespace

}  // namespace dml::losses
