#include "dml/losses/contrastive.h"

#include "dml/losses/loss_terms.h"
#include "dml/params.h"
#include "engine/ops.h"

namespace dml::losses {

Tensor contrastive_terms(const Tensor& pos_distances, const Tensor& neg_distances,
                         double pos_margin, double neg_margin) {
  return mean_of_positive(relu(pos_distances - pos_margin)) +
         mean_of_positive(relu(neg_margin - neg_distances));
}

Tensor ContrastiveLoss::forward(const Tensor& embeddings, const Tensor& labels,
                                const miners::MinedTuples* mined) {
  miners::Labels y = miners::batch_labels(embeddings, labels, kName);
  miners::Pairs pairs = miners::pairs_for(y, mined, kName);
  if (pairs.pos.size() + pairs.neg.size() == 0) return zero_loss(embeddings, *this);
  Tensor d = sphere_distances(embeddings);
  return contrastive_terms(pick(d, pairs.pos.anchor, pairs.pos.other),
                           pick(d, pairs.neg.anchor, pairs.neg.other), params_.pos_margin,
                           params_.neg_margin);
}

std::string ContrastiveLoss::describe() const {
  return describe_params(kName,
                         {{"pos_margin", params_.pos_margin}, {"neg_margin", params_.neg_margin}});
}

}  // namespace dml::losses
