#include "dml/losses/multi_similarity.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor MultiSimilarityLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                                       const miners::Pairs& pairs, AnchorRows rows) {
  AnchorMasks masks = anchor_masks(pairs, rows, embeddings.size(0), embeddings.device());
  if (masks.num_valid == 0) return zero_loss(embeddings, *this);
  const MultiSimilarityParams& p = params_;
  Tensor s = sphere_similarities(embeddings, rows);
  Tensor pos = masked_logsumexp((s - p.base) * -p.alpha, masks.pos, true) / p.alpha;
  Tensor neg = masked_logsumexp((s - p.base) * p.beta, masks.neg, true) / p.beta;
  return sum_over_valid(pos + neg, masks) / double(rows.end - rows.begin);
}

std::string MultiSimilarityLoss::describe() const {
  return describe_params(
      kName, {{"alpha", params_.alpha}, {"beta", params_.beta}, {"base", params_.base}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const MultiSimilarityParams ms;
  return LossEntry{MultiSimilarityLoss::kName,
                   LossKind::tuple,
                   "Wang et al. 2019: soft weighting of positive and negative similarities",
                   {ParamSpec::positive("alpha", ms.alpha, "scale of positive similarities"),
                    ParamSpec::positive("beta", ms.beta, "scale of negative similarities"),
                    ParamSpec::real("base", ms.base, -1, 1, "similarity margin lambda")},
                   [](const LossContext&, const LossParams& p) {
                     return std::make_unique<MultiSimilarityLoss>(
                         MultiSimilarityParams{p.at("alpha"), p.at("beta"), p.at("base")});
                   }};
}());

}  // namespace

}  // namespace dml::losses
