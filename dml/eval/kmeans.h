#pragma once
// k-means (Lloyd's algorithm) with k-means++ seeding, on f32 rows [N, D].
//
// Seeding (Arthur & Vassilvitskii 2007): the first centre is a uniformly
// random row, each next one a row drawn with probability proportional to its
// squared distance to the nearest centre chosen so far (uniformly if all are
// 0). Lloyd iterations then alternate an update (each centre becomes the mean
// of its rows, accumulated in f64; an empty cluster takes the row farthest
// from its own centre, farthest first) and an assignment (each row to its
// nearest centre by the kNN search's chunked GEMM, ties to the lower centre
// index), until no assignment changes or max_iter updates have run. The
// returned assignments always belong to the returned centroids.
//
// All randomness comes from the Generator, so a seed fixes the result.
#include <cstdint>
#include <vector>

#include "engine/rng.h"
#include "engine/tensor.h"

namespace dml::eval {

struct KMeansOptions {
  int64_t clusters = 0;      // k, 1 <= k <= N
  int64_t max_iter = 300;    // as sklearn's KMeans
  int64_t chunk_rows = 256;  // rows per kNN work item in the assignment
};

struct KMeansResult {
  Tensor centroids;                  // f32 [k, D]
  std::vector<int64_t> assignments;  // [N], each in [0, k)
  double inertia = 0;                // sum of squared distances to the assigned centre
  int64_t iterations = 0;            // update + assignment rounds run
  bool converged = false;            // stopped because no assignment changed
};

KMeansResult kmeans(const Tensor& x, const KMeansOptions& options, Generator& gen);

}  // namespace dml::eval
