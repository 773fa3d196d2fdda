// Exact kNN on CUDA (engine/ops/knn_cuda.h, kernels/cuda/knn_select.h) against
// the CPU search. Skipped where no GPU is present.
//
// The two devices compute the same distance formula from dot products whose
// f32 sums are ordered differently, so two database rows at nearly equal
// distance may swap ranks. Neighbours are therefore checked by distance:
// the row the GPU puts at rank p must lie, recomputed in f64, as near as the
// CPU's row at rank p (within 1e-4 relative: a dot of 16 N(0,1) terms carries
// f32 rounding near 16 * 2^-24 * 16 ~ 1e-5 of the distance scale); the
// distances the GPU reports must be its rows' f64 distances within the same
// bound; no row may repeat or be the query itself when excluded. Ties that
// are exact (integer data) must come out in the CPU's order, lower index first.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "dml/eval/knn.h"
#include "engine/ops.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using eval::KnnOptions;
using eval::Metric;
using test::CudaParity;

Device gpu() {
  return Device::cuda(0);
}

// The f64 distance between query row q and database row x, by the metric.
double distance(const std::vector<float>& queries, const std::vector<float>& database, int64_t dim,
                int64_t q, int64_t x, Metric metric) {
  double dot = 0, qq = 0, xx = 0;
  for (int64_t j = 0; j < dim; ++j) {
    const double a = queries[size_t(q * dim + j)], b = database[size_t(x * dim + j)];
    dot += a * b;
    qq += a * a;
    xx += b * b;
  }
  if (metric == Metric::euclidean) return std::max(qq + xx - 2 * dot, 0.0);
  const double norms = std::sqrt(qq) * std::sqrt(xx);
  return norms > 0 ? std::max(1 - dot / norms, 0.0) : 1.0;
}

void expect_same_search(const Tensor& queries, const Tensor& database, int64_t k,
                        const KnnOptions& options) {
  SCOPED_TRACE(detail::concat("k ", k, ", ", eval::metric_name(options.metric),
                              options.exclude_self ? ", self excluded" : "", ", chunk ",
                              options.chunk_rows, ", block ", options.block_cols));
  const eval::KnnResult want = eval::knn(queries, database, k, options);
  const eval::KnnResult got = eval::knn(
      queries.to(gpu()), options.exclude_self ? queries.to(gpu()) : database.to(gpu()), k, options);
  ASSERT_EQ(got.indices.device(), gpu());
  ASSERT_EQ(got.indices.shape(), want.indices.shape());
  const std::vector<int64_t> gi = got.indices.to_vector<int64_t>(),
                             wi = want.indices.to_vector<int64_t>();
  const std::vector<float> gd = got.distances.to_vector<float>();
  const std::vector<float> q = queries.to_vector<float>(), x = database.to_vector<float>();
  const int64_t nq = queries.size(0), n = database.size(0), dim = queries.size(1);
  int64_t bad = 0, same_index = 0;
  for (int64_t r = 0; r < nq; ++r) {
    std::set<int64_t> seen;
    for (int64_t p = 0; p < k; ++p) {
      const size_t at = size_t(r * k + p);
      const int64_t i = gi[at];
      bool ok = i >= 0 && i < n && seen.insert(i).second && !(options.exclude_self && i == r);
      if (ok) {
        const double mine = distance(q, x, dim, r, i, options.metric);
        const double theirs = distance(q, x, dim, r, wi[at], options.metric);
        const double bound = 1e-4 * std::max(1.0, theirs);
        ok = std::abs(mine - theirs) <= bound && std::abs(gd[at] - mine) <= bound;
      }
      same_index += i == wi[at];
      if (!ok && ++bad <= 5)
        ADD_FAILURE() << "query " << r << " rank " << p << ": CUDA row " << i << " (distance "
                      << gd[at] << "), CPU row " << wi[at];
    }
  }
  EXPECT_EQ(bad, 0);
  // Swaps happen only between near-equal distances: rare on random data.
  EXPECT_GE(double(same_index), 0.99 * double(nq * k));
}

TEST_F(CudaParity, KnnMatchesTheCpuSearch) {
  Generator gen(21);
  const Tensor queries = randn({300, 16}, DType::f32, &gen);
  const Tensor database = randn({5000, 16}, DType::f32, &gen);
  for (Metric metric : {Metric::euclidean, Metric::cosine})
    for (int64_t k : {1, 5, 8, 9, 16, 17, 32}) {
      expect_same_search(queries, database, k, {.metric = metric});
      expect_same_search(narrow(database, 0, 0, 700), narrow(database, 0, 0, 700), k,
                         {.metric = metric, .exclude_self = true});
    }
}

// Several query chunks and database blocks, the last of each partial: the
// running lists must carry across blocks.
TEST_F(CudaParity, KnnCarriesItsListsAcrossChunksAndBlocks) {
  Generator gen(22);
  const Tensor x = randn({2500, 12}, DType::f32, &gen);
  for (int64_t k : {3, 32}) {
    expect_same_search(x, x, k, {.exclude_self = true, .chunk_rows = 64, .block_cols = 1000});
    expect_same_search(narrow(x, 0, 0, 77), x, k, {.chunk_rows = 10, .block_cols = 333});
  }
}

// Integer coordinates make every distance exact on both devices; duplicated
// rows then tie exactly and must come out lower index first, as on the CPU.
TEST_F(CudaParity, KnnBreaksExactTiesByTheLowerIndex) {
  Generator gen(23);
  Tensor base = randint(-3, 4, {40, 4}, DType::i64, &gen).to(DType::f32);
  const Tensor x = concat({base, base, base}, 0);  // row i ties with i + 40 and i + 80
  for (int64_t k : {1, 4, 8, 31}) {
    const KnnOptions options{.exclude_self = true, .block_cols = 50};
    const eval::KnnResult want = eval::knn(x, x, k, options);
    const eval::KnnResult got = eval::knn(x.to(gpu()), x.to(gpu()), k, options);
    EXPECT_EQ(got.indices.to_vector<int64_t>(), want.indices.to_vector<int64_t>()) << "k " << k;
    EXPECT_EQ(got.distances.to_vector<float>(), want.distances.to_vector<float>()) << "k " << k;
  }
}

// Deeper than the kernel keeps (k > 32): the CPU search on copies, the
// results back on the device, equal to the CPU's.
TEST_F(CudaParity, DeepKnnRunsOnTheCpuAndReturnsToTheDevice) {
  Generator gen(24);
  const Tensor x = randn({400, 8}, DType::f32, &gen);
  const eval::KnnResult want = eval::knn(x, x, 40, {.exclude_self = true});
  const eval::KnnResult got = eval::knn(x.to(gpu()), x.to(gpu()), 40, {.exclude_self = true});
  EXPECT_EQ(got.indices.device(), gpu());
  EXPECT_EQ(got.indices.to_vector<int64_t>(), want.indices.to_vector<int64_t>());
}

TEST_F(CudaParity, KnnOnCudaGivesTheCpuErrors) {
  Generator gen(25);
  Tensor x = randn({20, 4}, DType::f32, &gen);
  std::vector<float> v = x.to_vector<float>();
  v[7 * 4 + 2] = NAN;
  const Tensor bad = from_vector(v, {20, 4});
  test::expect_error([&] { eval::knn(bad.to(gpu()), x.to(gpu()), 3); },
                     {"knn: queries row 7", "NaN or inf"});
  test::expect_error([&] { eval::knn(x.to(gpu()), x, 3); }, {"cuda:0", "cpu", "one device"});
  test::expect_error([&] { eval::knn(x.to(gpu()), x.to(gpu()), 20, {.exclude_self = true}); },
                     {"asks for 20", "only 19"});
}

}  // namespace
}  // namespace dml
