#pragma once
// A 2-D map of an embedding space for the audit report: principal component
// analysis onto the two directions of largest variance.
#include "engine/tensor.h"

namespace dml::fairness {

// embeddings [n, d] (f32 or f64, CPU, n >= 1) -> [n, 2] of the same dtype:
// the centred rows projected onto the covariance's top two eigenvectors
// (computed in f64 by orthogonal iteration from a fixed start, then exact
// 2x2 Rayleigh-Ritz). Each direction's sign is fixed so that its largest
// component (the first, on a tie) is positive, so the map does not flip
// between runs. With d = 1, or all variance in one direction, the second
// column is (numerically) zero; identical rows give zeros. When the second
// and third eigenvalues nearly tie, the iteration stops after a fixed budget
// with a direction inside their (equally good) span.
Tensor pca_2d(const Tensor& embeddings);

}  // namespace dml::fairness
