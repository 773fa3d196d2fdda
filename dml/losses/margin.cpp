#include "dml/losses/margin.h"

#include <algorithm>

#include "dml/losses/fused_margin.h"
#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/miners/distance_weighted.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

MarginLoss::MarginLoss(MarginParams params, int64_t num_classes, DType dtype)
    : PairBasedLoss(kName), params_(params), num_classes_(num_classes) {
  DML_CHECK(!params.per_class_beta || num_classes > 0, kName,
            ": per_class_beta needs the number of training classes (LossContext::num_classes), "
            "got ",
            num_classes);
  beta_ = register_parameter("beta",
                             full({params.per_class_beta ? num_classes : 1}, params.beta, dtype));
}

Tensor MarginLoss::betas_of(const std::vector<int64_t>& anchors, const std::vector<int64_t>& y,
                            DType dtype) const {
  std::vector<int64_t> rows(anchors.size(), 0);
  if (params_.per_class_beta)
    for (size_t i = 0; i < anchors.size(); ++i) rows[i] = y[size_t(anchors[i])];
  // to() is a differentiable cast (and no-op in beta's own dtype).
  return index_select(beta_.to(dtype), 0, index_tensor(rows, beta_.device()));
}

Tensor MarginLoss::tuple_loss(const Tensor& embeddings, const miners::Labels& y,
                              const miners::Pairs& pairs, AnchorRows rows) {
  if (params_.per_class_beta) check_class_labels(y, num_classes_, kName);
  const size_t num_pairs = pairs.pos.size() + pairs.neg.size();
  if (num_pairs == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings, rows);
  Tensor beta_pos = betas_of(pairs.pos.anchor, y, embeddings.dtype());
  Tensor beta_neg = betas_of(pairs.neg.anchor, y, embeddings.dtype());
  Tensor pos =
      relu(pick(d, pairs.pos.anchor, pairs.pos.other, rows.begin) - beta_pos + params_.margin);
  Tensor neg =
      relu(beta_neg - pick(d, pairs.neg.anchor, pairs.neg.other, rows.begin) + params_.margin);
  const Tensor active = count_positive(pos) + count_positive(neg);
  Tensor loss = (sum(pos) + sum(neg)) * inverse_count(active, embeddings.dtype());
  if (params_.nu != 0) loss = loss + (sum(beta_pos) + sum(beta_neg)) * (params_.nu / num_pairs);
  return loss;
}

Tensor MarginLoss::forward_mined(const Tensor& embeddings, const Tensor& labels,
                                 miners::Miner& miner, Generator& gen) {
  const auto* weighted = dynamic_cast<const miners::DistanceWeightedMiner*>(&miner);
  if (!weighted) return Loss::forward_mined(embeddings, labels, miner, gen);
  const DistanceWeightedMarginOptions options{
      .margin = params_.margin,
      .nu = params_.nu,
      .cutoff = weighted->params().cutoff,
      .nonzero_loss_cutoff = weighted->params().nonzero_loss_cutoff,
      .per_class_beta = params_.per_class_beta};
  return distance_weighted_margin_loss(embeddings, labels, beta_.to(embeddings.dtype()), options,
                                       gen);
}

std::string MarginLoss::describe() const {
  return describe_params(kName, {{"margin", params_.margin},
                                 {"beta", params_.beta},
                                 {"nu", params_.nu},
                                 {"per_class_beta", params_.per_class_beta ? 1.0 : 0.0}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const MarginParams margin;
  return LossEntry{
      MarginLoss::kName,
      LossKind::tuple,
      "Wu et al. 2017: pairs against a learnable boundary beta (lr multiplier 50)",
      {ParamSpec::non_negative("margin", margin.margin, "alpha, half-width around beta"),
       ParamSpec::non_negative("beta", margin.beta, "initial beta"),
       ParamSpec::non_negative("nu", margin.nu, "weight of the beta regulariser"),
       ParamSpec::flag("per_class_beta", margin.per_class_beta, "one beta per training class")},
      [](const LossContext& ctx, const LossParams& p) {
        return std::make_unique<MarginLoss>(
            MarginParams{p.at("margin"), p.at("beta"), p.at("nu"), p.at("per_class_beta") != 0},
            ctx.num_classes);
      }};
}());

}  // namespace

}  // namespace dml::losses
