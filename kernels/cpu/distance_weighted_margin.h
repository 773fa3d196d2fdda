#pragma once
// The margin loss on distance-weighted triplets as one kernel pair: pairwise
// distances, the miner's draws and the loss in the forward, the gradients of
// the embeddings and of beta in the backward, with no host decision in
// between (kernels/distance_weighted_margin_math.h has the per-element
// rules, shared with the CUDA kernel and the host miner).
#include <cstdint>

#include "kernels/distance_weighted_margin_math.h"

namespace dml::cpu {

// The draws alone: every slot's negative (-1 for none) from the distances
// [B, B], through the log weights [B, B]. The forward below runs it, and so
// does the host DistanceWeightedMiner (through the engine's
// distance_weighted_negatives), so both pick the same triplets.
void distance_weighted_negatives(const kernels::DistanceWeightedMargin& c, const double* dist,
                                 const int64_t* labels, double* log_weights, int64_t* negatives);

// embeddings [B, D], labels [B], beta [1] or [classes] -> loss (one value).
template <class T>
void distance_weighted_margin_forward(const T* embeddings, const int64_t* labels, const T* beta,
                                      const kernels::DistanceWeightedMargin& c,
                                      const kernels::DistanceWeightedMarginWork& work, T* loss);

// grad_loss (one value) -> grad_embeddings [B, D], grad_beta [beta_rows].
template <class T>
void distance_weighted_margin_backward(const T* grad_loss, const int64_t* labels, const T* beta,
                                       int64_t beta_rows, const kernels::DistanceWeightedMargin& c,
                                       const kernels::DistanceWeightedMarginWork& work,
                                       T* grad_embeddings, T* grad_beta);

}  // namespace dml::cpu
