#include "dml/losses/proxy_anchor.h"

#include <cmath>
#include <limits>
#include <set>

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "engine/ops.h"

namespace dml::losses {
namespace {

Tensor initial_proxies(const LossContext& ctx) {
  check_context(ProxyAnchorLoss::kName, ctx);
  return normal_rows(ctx, ctx.num_classes, std::sqrt(2.0 / double(ctx.num_classes)));
}

// log(1 + sum_i exp(z_i)) down dim 0 over the entries not excluded, as
// logsumexp with a zero row prepended: stable for any alpha, and 0 (with no
// NaN) for a proxy with nothing to sum.
Tensor log1p_sum_exp(const Tensor& z, const Tensor& excluded) {
  Tensor kept = masked_fill(z, excluded, -std::numeric_limits<double>::infinity());
  Tensor one = zeros({1, z.shape()[1]}, z.dtype());
  return logsumexp(concat({one, kept}, 0), {0});
}

}  // namespace

ProxyAnchorLoss::ProxyAnchorLoss(const LossContext& ctx, ProxyAnchorParams params)
    : ProxyAnchorLoss(initial_proxies(ctx), params) {}

ProxyAnchorLoss::ProxyAnchorLoss(Tensor proxies, ProxyAnchorParams params)
    : ProxyLoss(kName, "proxies", std::move(proxies)), params_(params) {}

Tensor ProxyAnchorLoss::forward(const Tensor& embeddings, const Tensor& labels,
                                const miners::MinedTuples*) {
  std::vector<int64_t> values = check_batch(embeddings, labels);
  const int64_t classes_present = int64_t(std::set<int64_t>(values.begin(), values.end()).size());
  const double alpha = params_.alpha, delta = params_.delta;
  Tensor cos = cosine_similarities(embeddings, rows_for(embeddings));
  Tensor positive = target_mask(labels);
  Tensor negative = eq(positive, zeros({}, DType::u8));
  Tensor pos_term = sum(log1p_sum_exp((cos - delta) * -alpha, negative));
  Tensor neg_term = sum(log1p_sum_exp((cos + delta) * alpha, positive));
  return pos_term / double(classes_present) + neg_term / double(num_classes());
}

std::string ProxyAnchorLoss::describe() const {
  return describe_with({{"alpha", params_.alpha}, {"delta", params_.delta}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const ProxyAnchorParams proxy_anchor;
  return LossEntry{
      ProxyAnchorLoss::kName,
      LossKind::proxy,
      "Kim et al. 2020: each class proxy an anchor against the batch (lr multiplier 100)",
      {ParamSpec::positive("alpha", proxy_anchor.alpha, "scale of the similarities"),
       ParamSpec::real("delta", proxy_anchor.delta, 0, 1, "similarity margin")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<ProxyAnchorLoss>(ctx,
                                                 ProxyAnchorParams{p.at("alpha"), p.at("delta")});
      }};
}());

}  // namespace

}  // namespace dml::losses
