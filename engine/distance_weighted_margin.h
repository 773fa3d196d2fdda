#pragma once
// The margin loss on distance-weighted triplets as one engine op: the
// pairwise distances, the miner's draws and the loss run as one kernel chain
// on the embeddings' device (kernels/*/distance_weighted_margin.*) with no
// host read in between, and the draws alone for the host miner. Both draw a
// slot's negative with kernels::mine_slot from distances in f64, so given the
// same generator state they pick the same triplets; what the loss means and
// how the draws work is kernels/distance_weighted_margin_math.h.
#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml {

// What the caller chooses (Wu et al. 2017); the ops fill in the batch's sizes
// and the generator's counters.
struct DistanceWeightedMarginOptions {
  double margin = 0.2;  // alpha, the half-width of the band around beta
  double nu = 0;        // weight of the beta regulariser
  // Distances below `cutoff` weigh as if at it; negatives at
  // `nonzero_loss_cutoff` or farther are never drawn.
  double cutoff = 0.5, nonzero_loss_cutoff = 1.4;
  bool per_class_beta = false;  // beta row = the anchor's label, else row 0
};

// embeddings f32/f64 [B, D]; labels i64 [B] (any device: moved to the
// embeddings'); beta [1], or [classes] with config.per_class_beta, in the
// embeddings' dtype. Labels index beta's rows with per_class_beta and must
// then lie in [0, classes): their values are the caller's to check (the op
// reads nothing back to the host, so it stays capturable). The draws reserve
// B * B counters of gen. Arithmetic is f64 inside; the loss and the gradients are
// rounded once to the embeddings' dtype. Differentiable in embeddings and
// beta. Capturable in a CUDA graph (engine/cuda_graph.h) with the labels
// already on the device and gen the capture's generator.
Tensor fused_distance_weighted_margin_loss(const Tensor& embeddings, const Tensor& labels,
                                           const Tensor& beta,
                                           const DistanceWeightedMarginOptions& options,
                                           Generator& gen);

// The draws alone, on the CPU: distances f64 [B, B] between L2-normalised
// embeddings of dimension `dim`, labels i64 [B] -> i64 [B, B], slot (a, p)
// holding the negative drawn for the positive pair (a, p) and -1 elsewhere;
// options' cutoffs apply. B * B counters of gen, as the loss reserves. Not
// differentiable.
Tensor distance_weighted_negatives(const Tensor& distances, const Tensor& labels, int64_t dim,
                                   const DistanceWeightedMarginOptions& options, Generator& gen);

}  // namespace dml
