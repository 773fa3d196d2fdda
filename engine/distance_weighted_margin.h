#pragma once
// The margin loss on distance-weighted triplets as one engine op: the
// pairwise distances, the miner's draws and the loss run as one kernel chain
// on the embeddings' device (kernels/*/distance_weighted_margin.*) with no
// host read in between, and the draws alone for the host miner. Both draw a
// slot's negative with kernels::mine_slot from distances in f64, so given the
// same generator state they pick the same triplets; what the loss means and
// how the draws work is kernels/distance_weighted_margin_math.h, whose
// DistanceWeightedMargin is the ops' parameter block.
#include "engine/rng.h"
#include "engine/tensor.h"
#include "kernels/distance_weighted_margin_math.h"

namespace dml {

// embeddings f32/f64 [B, D]; labels i64 [B] (any device: moved to the
// embeddings'); beta [1], or [classes] with config.per_class_beta, in the
// embeddings' dtype. Labels index beta's rows with per_class_beta and must
// then lie in [0, classes): their values are the caller's to check (the op
// reads nothing back to the host, so it stays capturable). config's batch,
// dim, seed, first and first_base are filled here (the draws reserve B * B
// counters of gen). Arithmetic is f64 inside; the loss and the gradients are
// rounded once to the embeddings' dtype. Differentiable in embeddings and
// beta. Capturable in a CUDA graph (engine/cuda_graph.h) with the labels
// already on the device and gen the capture's generator.
Tensor fused_distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                           const Tensor& beta,
                                           kernels::DistanceWeightedMargin config, Generator& gen);

// The draws alone, on the CPU: distances f64 [B, B] between L2-normalised
// embeddings of dimension config.dim, labels i64 [B] -> i64 [B, B], slot
// (a, p) holding the negative drawn for the positive pair (a, p) and -1
// elsewhere. config's batch, seed and first are filled here (B * B counters
// of gen, as the loss reserves). Not differentiable.
Tensor distance_weighted_negatives(const Tensor& distances, const Tensor& labels,
                                   kernels::DistanceWeightedMargin config, Generator& gen);

}  // namespace dml
