#pragma once
// The margin loss on distance-weighted triplets as one op, where the
// composite path computes the distances, reads them to the host for the
// miner, uploads the triplets and runs ~30 small ops: the engine's fused op
// (engine/distance_weighted_margin.h: the kernel chain, its arithmetic and
// its gradients) behind the checks a loss makes of its batch.
//
// It draws the same triplets as DistanceWeightedMiner given the same
// generator state and its value and gradients are the margin loss's on them,
// so MarginLoss takes it whenever its miner is the distance-weighted one
// (Loss::forward_mined).
#include "engine/distance_weighted_margin.h"

namespace dml::losses {

// embeddings f32/f64 [B, D]; labels i64 [B] (any device); beta [1], or
// [classes] with options.per_class_beta (labels must then lie in
// [0, classes), checked here unless a CUDA graph is capturing: the labels
// are then a device tensor refilled before each replay, whose values are the
// caller's to check). The rest as the engine op.
Tensor distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                     const Tensor& beta,
                                     const DistanceWeightedMarginOptions& options, Generator& gen);

}  // namespace dml::losses
