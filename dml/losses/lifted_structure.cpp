#include "dml/losses/lifted_structure.h"

#include "dml/losses/loss_terms.h"
#include "dml/losses/registry.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor LiftedStructureLoss::tuple_loss(const Tensor& embeddings, const miners::Labels&,
                                       const miners::Pairs& pairs, AnchorRows rows) {
  AnchorMasks masks = anchor_masks(pairs, rows, embeddings.size(0), embeddings.device());
  if (masks.num_valid == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings, rows);
  Tensor per_anchor = relu(masked_logsumexp(d, masks.pos, false) +
                           masked_logsumexp(params_.margin - d, masks.neg, false));
  return sum_over_valid(per_anchor, masks) / double(masks.num_valid);
}

std::string LiftedStructureLoss::describe() const {
  return describe_params(kName, {{"margin", params_.margin}});
}

namespace {

[[maybe_unused]] const bool registered = loss_registry().add([] {
  const LiftedStructureParams lifted;
  return LossEntry{
      LiftedStructureLoss::kName,
      LossKind::tuple,
      "Hermans et al. 2017: generalised lifted structure, log-sum-exp per anchor",
      {ParamSpec::non_negative("margin", lifted.margin, "margin on negative distances")},
      [](const LossContext&, const LossParams& p) {
        return std::make_unique<LiftedStructureLoss>(LiftedStructureParams{p.at("margin")});
      }};
}());

}  // namespace

}  // namespace dml::losses
