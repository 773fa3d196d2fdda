#include "dml/losses/lifted_structure.h"

#include "dml/losses/loss_terms.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor LiftedStructureLoss::forward(const Tensor& embeddings, const Tensor& labels,
                                    const miners::MinedTuples* mined) {
  miners::Labels y = miners::batch_labels(embeddings, labels, kName);
  AnchorMasks masks =
      anchor_masks(miners::pairs_for(y, mined, kName), int64_t(y.size()), embeddings.device());
  if (masks.num_valid == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings);
  Tensor per_anchor = relu(masked_logsumexp(d, masks.pos, false) +
                           masked_logsumexp(params_.margin - d, masks.neg, false));
  return sum_over_valid(per_anchor, masks) / double(masks.num_valid);
}

std::string LiftedStructureLoss::describe() const {
  return describe_params(kName, {{"margin", params_.margin}});
}

}  // namespace dml::losses
