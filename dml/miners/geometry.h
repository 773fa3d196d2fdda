#pragma once
// The unit-sphere geometry that losses and miners share: embeddings are
// L2-normalised first, whatever the caller passed, so a miner ranks tuples
// by the same distances the loss then computes.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace dml::miners {

// Cosine similarities between the rows of a [..., N, D] and b [..., M, D]:
// [..., N, M], the inner products of the L2-normalised rows (differentiable
// in both). Proxy losses compare embeddings with their class rows this way.
Tensor cosine_similarities(const Tensor& a, const Tensor& b);

// [B, B] Euclidean distances ||x_i - x_j|| and cosine similarities x_i . x_j
// of the normalised rows x of e (differentiable); sphere_similarities also
// takes [..., B, D] (one [B, B] block per leading index).
Tensor sphere_distances(const Tensor& e);
Tensor sphere_similarities(const Tensor& e);

// A [B, B] matrix on the host in f64, for miners' decisions.
struct HostMatrix {
  int64_t n = 0;
  std::vector<double> values;
  double operator()(int64_t i, int64_t j) const { return values[size_t(i * n + j)]; }
};

// The matrices above, computed under NoGradGuard in f64 on the CPU: the only
// tensor work a miner does, so miners never record autograd history.
HostMatrix host_sphere_distances(const Tensor& e);
HostMatrix host_sphere_similarities(const Tensor& e);

}  // namespace dml::miners
