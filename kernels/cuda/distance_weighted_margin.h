#pragma once
// The CPU kernel pair of cpu/distance_weighted_margin.h on a CUDA device:
// the same arguments plus the device; every pointer is device memory. Five
// launches forward and three backward, no host read in between (the loss,
// the miner's choices and the batch sums stay on the device).
#include <cstdint>

#include "kernels/distance_weighted_margin_math.h"

namespace dml::cuda {

template <class T>
void distance_weighted_margin_forward(const T* embeddings, const int64_t* labels, const T* beta,
                                      const kernels::DistanceWeightedMargin& c,
                                      const kernels::DistanceWeightedMarginWork& work, T* loss,
                                      int device);

template <class T>
void distance_weighted_margin_backward(const T* grad_loss, const int64_t* labels, const T* beta,
                                       int64_t beta_rows, const kernels::DistanceWeightedMargin& c,
                                       const kernels::DistanceWeightedMarginWork& work,
                                       T* grad_embeddings, T* grad_beta, int device);

}  // namespace dml::cuda
