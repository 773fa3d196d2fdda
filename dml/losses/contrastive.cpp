#include "dml/losses/contrastive.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor contrastive_terms(const Tensor& pos_distances, const Tensor& neg_distances,
                         double pos_margin, double neg_margin) {
  return mean_of_positive(relu(pos_distances - pos_margin)) +
         mean_of_positive(relu(neg_margin - neg_distances));
}

Tensor ContrastiveLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                                   const miners::Pairs& pairs, AnchorRows rows) {
  if (pairs.pos.size() + pairs.neg.size() == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings, rows);
  return contrastive_terms(pick(d, pairs.pos.anchor, pairs.pos.other, rows.begin),
                           pick(d, pairs.neg.anchor, pairs.neg.other, rows.begin),
                           params_.pos_margin, params_.neg_margin);
}

std::string ContrastiveLoss::describe() const {
  return describe_params(kName,
                         {{"pos_margin", params_.pos_margin}, {"neg_margin", params_.neg_margin}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const ContrastiveParams contrastive;
  return LossEntry{ContrastiveLoss::kName,
                   LossKind::tuple,
                   "Hadsell et al. 2006: hinge on positive and negative pair distances",
                   {ParamSpec::non_negative("pos_margin", contrastive.pos_margin,
                                            "positives closer cost nothing"),
                    ParamSpec::non_negative("neg_margin", contrastive.neg_margin,
                                            "negatives farther cost nothing")},
                   [](const LossContext&, const LossParams& p) {
                     return std::make_unique<ContrastiveLoss>(
                         ContrastiveParams{p.at("pos_margin"), p.at("neg_margin")});
                   }};
}());

}  // namespace

}  // namespace dml::losses
