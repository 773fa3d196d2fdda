#pragma once
// The margin loss on distance-weighted triplets as one op: the pairwise
// distances, the miner's draws and the loss run as one kernel chain on the
// embeddings' device (kernels/*/distance_weighted_margin.*), with no host read
// in between, where the composite path computes the distances, reads them to
// the host for the miner, uploads the triplets and runs ~30 small ops.
//
// It draws the same triplets as DistanceWeightedMiner given the same
// generator state (both use kernels::mine_slot; distances in f64) and its
// value and gradients are the margin loss's on them, so MarginLoss takes it
// whenever its miner is the distance-weighted one (Loss::forward_mined).
// Arithmetic is f64 inside; the loss and the gradients are rounded once to
// the embeddings' dtype.
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/distance_weighted_margin_math.h"

namespace dml::losses {

// embeddings f32/f64 [B, D]; labels i64 [B] (any device: moved to the
// embeddings'); beta [1], or [classes] with config.per_class_beta (labels
// must then lie in [0, classes)), in the embeddings' dtype. config's batch,
// dim, seed and first are filled here (the draws reserve B * B counters of
// gen). Differentiable in embeddings and beta. Capturable in a CUDA graph
// (engine/cuda_graph.h) with the labels already on the device (their values
// are then not checked here) and gen the capture's generator.
Tensor distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                     const Tensor& beta, kernels::DistanceWeightedMargin config,
                                     Generator& gen);

}  // namespace dml::losses
