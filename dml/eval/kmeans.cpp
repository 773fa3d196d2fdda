#include "dml/eval/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/parallel.h"
#include "dml/eval/knn.h"

namespace dml::eval {

namespace {

// Columns one thread sums in the centroid update (a cache line of floats).
constexpr int64_t kColumnBlock = 16;

double uniform(Generator& gen) {
  const PhiloxBlock r = philox4x32_10(gen.reserve(1), gen.seed());
  return uniform_f64(r[0], r[1]);
}

int64_t uniform_index(Generator& gen, int64_t n) {
  return std::min(n - 1, int64_t(uniform(gen) * double(n)));
}

double sq_distance(const float* a, const float* b, int64_t dim) {
  double s = 0;
  for (int64_t j = 0; j < dim; ++j) {
    const double diff = double(a[j]) - double(b[j]);
    s += diff * diff;
  }
  return s;
}

// k-means++ seeding into centres [k, dim].
void seed_centres(const float* x, int64_t n, int64_t dim, int64_t k, Generator& gen,
                  float* centres) {
  std::vector<double> nearest(size_t(n), std::numeric_limits<double>::infinity());
  int64_t pick = uniform_index(gen, n);
  for (int64_t c = 0; c < k; ++c) {
    std::copy(x + pick * dim, x + (pick + 1) * dim, centres + c * dim);
    if (c + 1 == k) break;
    parallel_for(
        n,
        [&](int64_t i) {
          nearest[size_t(i)] =
              std::min(nearest[size_t(i)], sq_distance(x + i * dim, centres + c * dim, dim));
        },
        kParallelGrain / (dim + 1));
    const double total = std::accumulate(nearest.begin(), nearest.end(), 0.0);
    if (total <= 0) {  // every row sits on a centre already
      pick = uniform_index(gen, n);
      continue;
    }
    // The first row whose running sum passes u; a row at distance 0 never
    // moves the sum, so it is never picked.
    const double u = uniform(gen) * total;
    double running = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (nearest[size_t(i)] <= 0) continue;
      pick = i;
      running += nearest[size_t(i)];
      if (running > u) break;
    }
  }
}

}  // namespace

KMeansResult kmeans(const Tensor& x, const KMeansOptions& options, Generator& gen) {
  DML_CHECK(x.dim() == 2 && x.dtype() == DType::f32 && x.device().is_cpu(),
            "kmeans: the data must be f32 [N, D] on the CPU, got ", describe(x));
  const int64_t n = x.size(0), dim = x.size(1), k = options.clusters;
  DML_CHECK(k >= 1 && k <= n, "kmeans: clusters = ", k, " must be in [1, N = ", n, "]");
  DML_CHECK(options.max_iter >= 0, "kmeans: max_iter = ", options.max_iter, " must be >= 0");
  const float* rows = x.data<float>();

  KMeansResult result;
  result.centroids = Tensor::empty({k, dim});
  float* centres = result.centroids.data<float>();
  seed_centres(rows, n, dim, k, gen, centres);

  result.assignments.assign(size_t(n), -1);
  std::vector<float> distance(static_cast<size_t>(n));
  const KnnOptions search{Metric::euclidean, false, options.chunk_rows};
  // Returns whether any assignment changed.
  auto assign = [&] {
    std::vector<int64_t> before = result.assignments;
    visit_neighbors(
        x, result.centroids, [](int64_t) { return int64_t{1}; },
        [&](int64_t i, const int64_t* idx, const float* d, int64_t) {
          result.assignments[size_t(i)] = idx[0];
          distance[size_t(i)] = d[0];
        },
        search);
    result.inertia = std::accumulate(distance.begin(), distance.end(), 0.0);
    return before != result.assignments;
  };

  std::vector<double> sums(size_t(k * dim));
  std::vector<int64_t> counts(static_cast<size_t>(k));
  assign();
  while (result.iterations < options.max_iter) {
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t c : result.assignments) ++counts[size_t(c)];
    // Threads split the columns, so every sum adds its rows in the same order
    // whatever the thread count; small problems stay on one thread.
    const int64_t blocks = (dim + kColumnBlock - 1) / kColumnBlock;
    const int64_t grain = n * dim < kParallelGrain ? blocks : 0;
    parallel_for(
        blocks,
        [&](int64_t block) {
          const int64_t j0 = block * kColumnBlock, j1 = std::min(dim, j0 + kColumnBlock);
          for (int64_t i = 0; i < n; ++i) {
            double* sum = sums.data() + result.assignments[size_t(i)] * dim;
            for (int64_t j = j0; j < j1; ++j) sum[j] += rows[i * dim + j];
          }
        },
        grain);
    if (std::count(counts.begin(), counts.end(), 0) > 0) {
      // Empty clusters take the rows farthest from their centres, as sklearn
      // relocates them; a row leaves its cluster only if others remain.
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), int64_t{0});
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return distance[size_t(a)] > distance[size_t(b)];
      });
      size_t next = 0;
      for (int64_t c = 0; c < k; ++c) {
        if (counts[size_t(c)] > 0) continue;
        while (next < order.size() && counts[size_t(result.assignments[order[next]])] <= 1) ++next;
        if (next == order.size()) break;  // fewer distinct rows than clusters
        const int64_t i = order[next++], from = result.assignments[size_t(i)];
        for (int64_t j = 0; j < dim; ++j) {
          sums[size_t(from * dim + j)] -= rows[i * dim + j];
          sums[size_t(c * dim + j)] = rows[i * dim + j];
        }
        --counts[size_t(from)];
        counts[size_t(c)] = 1;
      }
    }
    for (int64_t c = 0; c < k; ++c)
      if (counts[size_t(c)] > 0)
        for (int64_t j = 0; j < dim; ++j)
          centres[c * dim + j] = float(sums[size_t(c * dim + j)] / double(counts[size_t(c)]));
    ++result.iterations;
    if (!assign()) {
      result.converged = true;
      break;
    }
  }
  return result;
}

}  // namespace dml::eval
