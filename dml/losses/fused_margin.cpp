#include "dml/losses/fused_margin.h"

#include "dml/losses/loss_terms.h"
#include "engine/cuda_graph.h"

namespace dml::losses {

Tensor distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                     const Tensor& beta,
                                     const DistanceWeightedMarginOptions& options, Generator& gen) {
  const char* op = "distance_weighted_margin_loss";
  miners::check_batch(embeddings, labels, op);
  // numel, not size(0): a beta of the wrong rank is the engine op's to report.
  if (options.per_class_beta && beta.defined() && !graph_capturing(embeddings.device()))
    check_class_labels(labels.to_vector<int64_t>(), beta.numel(), op);
  return fused_distance_weighted_margin_loss(embeddings, labels, beta, options, gen);
}

}  // namespace dml::losses
