// The kNN op's contract (engine/knn.h) on the CPU: exact neighbours against a
// brute-force reference on small-integer data, where every distance is exact
// in f32 and many tie, so indices and distances must match bit for bit
// (ties to the lower index); the depths it accepts (0, all rows, per query)
// and refuses (beyond the rows, or the rows but one with exclude_self); and
// errors that name the op and the shapes.
#include "engine/knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::expect_error;

// Rows of small integers in [-2, 2]: dots and norms are exact in f32 in any
// summation order, and with 5^dim points in space, duplicates are common.
Tensor integer_rows(int64_t rows, int64_t dim, uint64_t seed) {
  Generator gen(seed);
  return randint(-2, 3, {rows, dim}, DType::i64, &gen).to(DType::f32);
}

struct Neighbour {
  float distance;
  int64_t index;
};

// Every row of x by squared Euclidean distance to query q, ties to the lower
// index, skipping `self`.
std::vector<Neighbour> reference(const Tensor& q, int64_t query, const Tensor& x, int64_t self) {
  const int64_t dim = q.size(1);
  const float* a = q.data<float>() + query * dim;
  std::vector<Neighbour> all;
  for (int64_t r = 0; r < x.size(0); ++r) {
    if (r == self) continue;
    const float* b = x.data<float>() + r * dim;
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += (double(a[j]) - b[j]) * (double(a[j]) - b[j]);
    all.push_back({float(s), r});
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Neighbour& u, const Neighbour& v) { return u.distance < v.distance; });
  return all;
}

void expect_reference(const KnnResult& got, const Tensor& q, const Tensor& x, int64_t k,
                      bool exclude_self) {
  ASSERT_EQ(got.indices.dtype(), DType::i64);
  ASSERT_EQ(got.distances.dtype(), DType::f32);
  ASSERT_EQ(got.indices.shape(), (Shape{q.size(0), k}));
  ASSERT_EQ(got.distances.shape(), (Shape{q.size(0), k}));
  for (int64_t i = 0; i < q.size(0); ++i) {
    const std::vector<Neighbour> want = reference(q, i, x, exclude_self ? i : -1);
    for (int64_t j = 0; j < k; ++j) {
      ASSERT_EQ(got.indices.data<int64_t>()[i * k + j], want[size_t(j)].index)
          << "query " << i << " rank " << j;
      ASSERT_EQ(got.distances.data<float>()[i * k + j], want[size_t(j)].distance)
          << "query " << i << " rank " << j;
    }
  }
}

// Across two database blocks and several query chunks, with ties at every rank.
TEST(KnnOp, MatchesBruteForceWithTiesToTheLowerIndex) {
  const Tensor x = integer_rows(kKnnBlockCols + 77, 3, 1);
  const Tensor q = integer_rows(50, 3, 2);
  expect_reference(knn(q, x, 40, {.chunk_rows = 16}), q, x, 40, false);
}

// k = N - 1 with exclude_self sorts every other row; k = N without it every row.
TEST(KnnOp, DeepestSearchesReturnEveryRowSorted) {
  const Tensor x = integer_rows(60, 2, 3);
  expect_reference(knn(x, x, 59, {.exclude_self = true, .chunk_rows = 7}), x, x, 59, true);
  expect_reference(knn(x, x, 60, {.chunk_rows = 7}), x, x, 60, false);
}

TEST(KnnOp, EmptyDepthsAndQueries) {
  const Tensor x = integer_rows(12, 4, 4);
  const KnnResult none = knn(x, x, 0);
  EXPECT_EQ(none.indices.shape(), (Shape{12, 0}));
  EXPECT_EQ(none.distances.shape(), (Shape{12, 0}));
  const KnnResult no_queries = knn(Tensor::empty({0, 4}), x, 3);
  EXPECT_EQ(no_queries.indices.shape(), (Shape{0, 3}));
}

// Cosine: a zero row is at distance 1 from everything, so its neighbours are
// the first rows in index order.
TEST(KnnOp, CosineZeroRowIsAtDistanceOneFromEverything) {
  Tensor x = integer_rows(20, 3, 5);
  std::fill(x.data<float>(), x.data<float>() + 3, 0.f);
  const KnnResult r = knn(x.slice(0, 1), x, 5, {.metric = KnnMetric::cosine});
  EXPECT_EQ(r.indices.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.distances.to_vector<float>(), std::vector<float>(5, 1.f));
}

TEST(KnnOp, VisitGivesEachQueryTheNearestOfItsDepth) {
  const Tensor x = integer_rows(kKnnBlockCols + 5, 3, 6);
  const Tensor q = integer_rows(30, 3, 7);
  std::vector<std::vector<int64_t>> got(30);
  visit_neighbors(
      q, x, [](int64_t query) { return 1 + 13 * query; },
      [&](int64_t query, const int64_t* indices, const float*, int64_t count) {
        got[size_t(query)].assign(indices, indices + count);
      },
      {.chunk_rows = 4});
  for (int64_t i = 0; i < 30; ++i) {
    const std::vector<Neighbour> want = reference(q, i, x, -1);
    ASSERT_EQ(int64_t(got[size_t(i)].size()), 1 + 13 * i) << "query " << i;
    for (size_t j = 0; j < got[size_t(i)].size(); ++j)
      ASSERT_EQ(got[size_t(i)][j], want[j].index) << "query " << i << " rank " << j;
  }
}

TEST(KnnOp, RefusesDepthsBeyondTheRows) {
  const Tensor x = integer_rows(10, 4, 8);
  expect_error([&] { knn(x, x, 11); }, {"knn", "asks for 11", "only 10"});
  expect_error([&] { knn(x, x, 10, {.exclude_self = true}); },
               {"knn", "asks for 10", "only 9", "own row excluded"});
  expect_error([&] { knn(x, x, -1); }, {"knn", "k = -1"});
  expect_error(
      [&] {
        visit_neighbors(
            x, x, [](int64_t query) { return query == 6 ? int64_t{11} : int64_t{1}; },
            [](int64_t, const int64_t*, const float*, int64_t) {});
      },
      {"knn", "query 6", "asks for 11", "only 10"});
}

// Norms from knn_sq_norms kept by the caller give the search's own results
// bit for bit, and are what the search reads (other norms move the distances).
TEST(KnnOp, KeptDatabaseNormsAreTheOnesASearchComputes) {
  Generator gen(10);
  const Tensor x = randn({kKnnBlockCols + 40, 6}, DType::f32, &gen);
  const Tensor q = randn({9, 6}, DType::f32, &gen);
  std::vector<float> norms(size_t(x.size(0)));
  ASSERT_EQ(knn_sq_norms(x.data<float>(), x.size(0), 6, norms.data()), -1);
  const KnnResult own = knn(q, x, 20);
  const KnnResult kept = knn(q, x, 20, {.database_sq_norms = norms.data()});
  EXPECT_EQ(kept.indices.to_vector<int64_t>(), own.indices.to_vector<int64_t>());
  EXPECT_EQ(kept.distances.to_vector<float>(), own.distances.to_vector<float>());
  std::vector<float> shifted(norms);
  for (float& n : shifted) n += 1.f;
  EXPECT_NE(knn(q, x, 20, {.database_sq_norms = shifted.data()}).distances.to_vector<float>(),
            own.distances.to_vector<float>());
}

// A database normalised by the caller gives the search's own cosine results
// bit for bit, and is taken as it is (raw rows then give other distances).
TEST(KnnOp, PreNormalisedDatabaseIsWhatACosineSearchMakes) {
  Generator gen(11);
  const Tensor x = randn({kKnnBlockCols + 40, 6}, DType::f32, &gen);
  const Tensor q = randn({9, 6}, DType::f32, &gen);
  const KnnOptions cosine{.metric = KnnMetric::cosine};
  KnnOptions normalized = cosine;
  normalized.database_normalized = true;
  const KnnResult own = knn(q, x, 20, cosine);
  const KnnResult kept = knn(q, l2_normalize(x, 1), 20, normalized);
  EXPECT_EQ(kept.indices.to_vector<int64_t>(), own.indices.to_vector<int64_t>());
  EXPECT_EQ(kept.distances.to_vector<float>(), own.distances.to_vector<float>());
  EXPECT_NE(knn(q, x, 20, normalized).distances.to_vector<float>(),
            own.distances.to_vector<float>());
}

// The first unsearchable row, also when several threads check.
TEST(KnnOp, SqNormsNameTheFirstUnsearchableRow) {
  std::vector<float> rows(2 * 40000, 1.f);
  rows[2 * 30000] = std::nanf("");
  rows[2 * 20000 + 1] = 3e30f;  // its square overflows f32
  std::vector<float> norms(40000);
  EXPECT_EQ(knn_sq_norms(rows.data(), 40000, 2, norms.data()), 20000);
  EXPECT_EQ(norms[5], 2.f);
}

TEST(KnnOp, ErrorsNameTheOpAndTheShapes) {
  const Tensor x = integer_rows(10, 4, 9);
  expect_error([&] { knn(x.reshape({40}), x, 1); }, {"knn", "queries", "f32[40]"});
  expect_error([&] { knn(x, x.reshape({40}), 1); }, {"knn", "database", "f32[40]"});
  expect_error([&] { knn(x, x.to(DType::f64), 1); }, {"knn", "database", "f64[10, 4]"});
  expect_error([&] { knn(x, x.reshape({8, 5}), 1); }, {"knn", "dim 4", "has 5"});
  expect_error([&] { knn(x, x.slice(0, 9), 1, {.exclude_self = true}); },
               {"knn", "exclude_self", "Q = 10", "N = 9"});
  expect_error([&] { knn(x, x, 1, {.chunk_rows = 0}); }, {"knn", "chunk_rows = 0"});
}

}  // namespace
}  // namespace dml
