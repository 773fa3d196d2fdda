// Evaluation: exact kNN against brute force, retrieval and clustering metrics
// against tests/golden/make_eval_golden.py, k-means on separated blobs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "dml/eval/clustering_metrics.h"
#include "dml/eval/evaluate.h"
#include "dml/eval/kmeans.h"
#include "dml/eval/knn.h"
#include "dml/eval/nearest_selection.h"
#include "dml/eval/retrieval_metrics.h"
#include "tests/support/fixture.h"
#include "tests/support/test_support.h"

namespace dml::eval {
namespace {

using test::expect_error;
using test::load_fixture;

// Brute-force distances in f64, as knn.h defines them.
std::vector<std::vector<double>> reference_distances(const Tensor& q, const Tensor& x,
                                                     Metric metric) {
  const int64_t nq = q.size(0), n = x.size(0), dim = q.size(1);
  const float* a = q.data<float>();
  const float* b = x.data<float>();
  auto norm = [dim](const float* v) {
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += double(v[j]) * v[j];
    return std::sqrt(s);
  };
  std::vector<std::vector<double>> d(static_cast<size_t>(nq),
                                     std::vector<double>(static_cast<size_t>(n)));
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t r = 0; r < n; ++r) {
      const float* u = a + i * dim;
      const float* v = b + r * dim;
      double s = 0;
      if (metric == Metric::euclidean) {
        for (int64_t j = 0; j < dim; ++j) s += (double(u[j]) - v[j]) * (double(u[j]) - v[j]);
      } else {
        for (int64_t j = 0; j < dim; ++j) s += double(u[j]) * v[j];
        s = 1.0 - s / std::max(norm(u) * norm(v), 1e-300);
      }
      d[size_t(i)][size_t(r)] = s;
    }
  return d;
}

// Indices of one row by distance, ties to the lower index.
std::vector<int64_t> reference_order(const std::vector<double>& row, int64_t self) {
  std::vector<int64_t> order;
  for (int64_t r = 0; r < int64_t(row.size()); ++r)
    if (r != self) order.push_back(r);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return row[size_t(a)] < row[size_t(b)]; });
  return order;
}

// Every returned neighbour is a distinct row (never the query itself with
// exclude_self) whose true distance matches the true k-th smallest at its
// rank: a correct exact kNN up to neighbours within tol of each other.
void expect_matches_brute_force(const Tensor& q, const Tensor& x, int64_t k,
                                const KnnOptions& options, double tol) {
  const KnnResult got = knn(q, x, k, options);
  ASSERT_EQ(got.indices.shape(), (Shape{q.size(0), k}));
  ASSERT_EQ(got.distances.shape(), (Shape{q.size(0), k}));
  const auto ref = reference_distances(q, x, options.metric);
  const int64_t* idx = got.indices.data<int64_t>();
  const float* dist = got.distances.data<float>();
  for (int64_t i = 0; i < q.size(0); ++i) {
    const auto order = reference_order(ref[size_t(i)], options.exclude_self ? i : -1);
    std::vector<int64_t> seen(idx + i * k, idx + (i + 1) * k);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "query " << i;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t n = idx[i * k + j];
      ASSERT_TRUE(n >= 0 && n < x.size(0));
      if (options.exclude_self) {
        EXPECT_NE(n, i);
      }
      const double want = ref[size_t(i)][size_t(order[size_t(j)])];
      EXPECT_NEAR(dist[i * k + j], want, tol) << "query " << i << " rank " << j;
      EXPECT_NEAR(ref[size_t(i)][size_t(n)], want, tol) << "query " << i << " rank " << j;
      if (j > 0) {
        EXPECT_LE(dist[i * k + j - 1], dist[i * k + j]);
      }
    }
  }
}

TEST(Knn, MatchesBruteForceAcrossDatabaseBlocks) {
  Generator gen(1);
  // N > kKnnBlockCols: neighbours merge across database blocks and chunks.
  const Tensor q = randn({67, 19}, DType::f32, &gen);
  const Tensor x = randn({kKnnBlockCols + 333, 19}, DType::f32, &gen);
  for (Metric metric : {Metric::euclidean, Metric::cosine})
    expect_matches_brute_force(q, x, 13, {metric, false, 16},
                               metric == Metric::euclidean ? 1e-4 : 1e-6);
}

TEST(Knn, ExcludeSelfMatchesBruteForce) {
  Generator gen(2);
  const Tensor x = randn({kKnnBlockCols + 100, 8}, DType::f32, &gen);
  for (Metric metric : {Metric::euclidean, Metric::cosine})
    expect_matches_brute_force(x, x, 5, {metric, true, 100},
                               metric == Metric::euclidean ? 1e-4 : 1e-6);
}

TEST(Knn, DeepSearchFromSampledThresholdMatchesBruteForce) {
  // N >= 4 x 1024 and k >= 128: the search starts from a threshold estimated
  // on a sample of the database (knn.cpp).
  Generator gen(12);
  const Tensor q = randn({40, 8}, DType::f32, &gen);
  const Tensor x = randn({4500, 8}, DType::f32, &gen);
  expect_matches_brute_force(q, x, 700, {Metric::euclidean, false, 16}, 1e-4);
  expect_matches_brute_force(x.slice(0, 30), x.slice(0, 30), 29, {Metric::cosine, true, 8}, 1e-6);
}

TEST(Knn, DeepSearchRecoversWhenTheSampleMisleads) {
  // The sampled rows (every 4th of 4096) lie near the queries and the rest
  // far away, so the sampled threshold lets too few rows through; those
  // queries must be searched again and still come out exact.
  const int64_t n = 4096, dim = 4;
  Generator gen(13);
  Tensor x = randn({n, dim}, DType::f32, &gen);
  float* p = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    if (i % 4 != 0) p[i * dim] += 30.f;
  const Tensor q = randn({20, dim}, DType::f32, &gen);
  expect_matches_brute_force(q, x, 1500, {Metric::euclidean, false, 256}, 1e-3);
}

TEST(Knn, ExcludeSelfByIndexKeepsDuplicates) {
  Generator gen(3);
  Tensor x = randn({20, 4}, DType::f32, &gen);
  float* p = x.data<float>();
  std::copy(p + 5 * 4, p + 6 * 4, p + 12 * 4);  // row 12 duplicates row 5
  const KnnResult r = knn(x, x, 3, {Metric::euclidean, true, 256});
  EXPECT_EQ(r.indices.data<int64_t>()[5 * 3], 12);
  EXPECT_EQ(r.indices.data<int64_t>()[12 * 3], 5);
  EXPECT_EQ(r.distances.data<float>()[5 * 3], 0.f);
  const int64_t* idx = r.indices.data<int64_t>();
  for (int64_t i = 0; i < 20; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_NE(idx[i * 3 + j], i);
}

TEST(Knn, TiesGoToTheLowerIndex) {
  // Points on the grid {-1, 0, 1}^3, each repeated many times: distances are
  // small integers, exact in f32, so whole runs of neighbours tie, across
  // database blocks. The order must be exactly (distance, index).
  const int64_t n = kKnnBlockCols + 500, dim = 3, k = 120;
  std::vector<float> v(size_t(n * dim));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j)
      v[size_t(i * dim + j)] = float((i * 7 + j * 5 + i / 9) % 3 - 1);
  const Tensor x = from_vector(v, {n, dim});
  for (bool exclude_self : {false, true}) {
    const KnnResult r = knn(x, x, k, {Metric::euclidean, exclude_self, 64});
    const auto ref = reference_distances(x, x, Metric::euclidean);
    const int64_t* idx = r.indices.data<int64_t>();
    for (int64_t i = 0; i < n; i += 37) {
      const auto order = reference_order(ref[size_t(i)], exclude_self ? i : -1);
      for (int64_t j = 0; j < k; ++j)
        ASSERT_EQ(idx[i * k + j], order[size_t(j)]) << "query " << i << " rank " << j;
    }
  }
}

TEST(Knn, ResultDoesNotDependOnChunkRows) {
  Generator gen(4);
  const Tensor x = randn({700, 24}, DType::f32, &gen);
  const KnnResult base = knn(x, x, 9, {Metric::euclidean, true, 256});
  for (int64_t chunk : {1, 7, 64, 1000}) {
    const KnnResult r = knn(x, x, 9, {Metric::euclidean, true, chunk});
    EXPECT_EQ(r.indices.to_vector<int64_t>(), base.indices.to_vector<int64_t>()) << chunk;
    const auto a = r.distances.to_vector<float>(), b = base.distances.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << chunk;
  }
}

TEST(Knn, VisitGivesEachQueryItsOwnDepth) {
  Generator gen(5);
  const Tensor x = randn({300, 6}, DType::f32, &gen);
  const KnnResult full = knn(x, x, 40, {Metric::cosine, true, 32});
  std::vector<int64_t> calls(300, 0);
  visit_neighbors(
      x, x, [](int64_t q) { return q % 41; },
      [&](int64_t q, const int64_t* idx, const float* dist, int64_t count) {
        ++calls[size_t(q)];
        ASSERT_EQ(count, q % 41);
        for (int64_t j = 0; j < count; ++j) {
          ASSERT_EQ(idx[j], full.indices.data<int64_t>()[q * 40 + j]);
          ASSERT_EQ(dist[j], full.distances.data<float>()[q * 40 + j]);
        }
      },
      {Metric::cosine, true, 32});
  EXPECT_EQ(calls, std::vector<int64_t>(300, 1));
}

TEST(NearestSelection, BothScanBuildsKeepTheExactNearest) {
  // Integer dots and biases: every distance is exact in f32 with or without
  // FMA, and many tie, so both builds must give exactly the (distance, index)
  // order. Blocks of odd lengths, one item excluded (dot -inf), and depths from
  // 1 to more than are offered.
  std::vector<int64_t> lengths = {1000, 37, 64, 15, 1, 1029};
  const int64_t total = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  std::vector<float> dot(static_cast<size_t>(total)), bias(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i) {
    dot[size_t(i)] = float((i * 37) % 41 - 20);
    bias[size_t(i)] = float((i * 13) % 29);
  }
  dot[77] = -std::numeric_limits<float>::infinity();
  const float offset = 60.f, scale = -2.f;
  std::vector<std::pair<float, int64_t>> want;
  for (int64_t i = 0; i < total; ++i)
    if (i != 77)
      want.emplace_back(std::max(0.f, offset + (bias[size_t(i)] + scale * dot[size_t(i)])), i);
  std::sort(want.begin(), want.end());

  using Scan =
      void (NearestSelection::*)(const float*, const float*, float, float, int64_t, int64_t);
  std::vector<Scan> builds = {&NearestSelection::scan_portable};
  if (NearestSelection::has_avx512()) builds.push_back(&NearestSelection::scan_avx512);
  for (Scan scan : builds)
    for (int64_t k : {int64_t{1}, int64_t{8}, int64_t{300}, total + 5}) {
      NearestSelection selection;
      selection.reset(k);
      int64_t first = 0;
      for (int64_t len : lengths) {
        (selection.*scan)(dot.data() + first, bias.data() + first, offset, scale, len, first);
        first += len;
      }
      std::vector<int64_t> idx(static_cast<size_t>(k));
      std::vector<float> dist(static_cast<size_t>(k));
      const int64_t count = selection.finish(idx.data(), dist.data());
      ASSERT_EQ(count, std::min(k, total - 1));
      for (int64_t j = 0; j < count; ++j) {
        ASSERT_EQ(idx[size_t(j)], want[size_t(j)].second) << "k " << k << " rank " << j;
        ASSERT_EQ(dist[size_t(j)], want[size_t(j)].first) << "k " << k << " rank " << j;
      }
    }
  if (!NearestSelection::has_avx512()) GTEST_SKIP() << "no AVX-512: only the portable scan ran";
}

TEST(Knn, ErrorsSayWhatToFix) {
  Generator gen(6);
  Tensor x = randn({10, 4}, DType::f32, &gen);
  expect_error(
      [&] {
        knn(x, x, 10, {Metric::euclidean, true, 256});
      },
      {"asks for 10", "only 9", "own row excluded"});
  expect_error(
      [&] {
        knn(x, x.slice(0, 5), 2, {Metric::euclidean, true, 256});
      },
      {"exclude_self", "Q == N"});
  expect_error([&] { knn(x, randn({10, 5}, DType::f32, &gen), 2); }, {"dim 4", "5"});
  expect_error([&] { knn(x.to(DType::f64), x, 2); }, {"f32"});
  x.data<float>()[3 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { knn(x, x, 2); }, {"row 3", "NaN"});
  expect_error([&] { parse_metric("manhattan"); }, {"manhattan", "euclidean or cosine"});
}

// ---- retrieval metrics against the fixture ----

Tensor matrix(const nlohmann::json& rows) {
  const int64_t n = int64_t(rows.size()), dim = int64_t(rows.at(0).size());
  std::vector<float> v;
  for (const auto& r : rows)
    for (double e : r) v.push_back(float(e));
  return from_vector(v, {n, dim});
}

Tensor labels(const nlohmann::json& j) {
  const auto v = j.get<std::vector<int64_t>>();
  return from_vector(v, {int64_t(v.size())});
}

void expect_report_matches(const RetrievalReport& got, const nlohmann::json& c) {
  const std::vector<std::string> names = {"recall@1",    "recall@2",    "recall@4", "recall@8",
                                          "precision@1", "r_precision", "map@r"};
  ASSERT_GE(got.metrics.size(), names.size());
  for (size_t m = 0; m < names.size(); ++m) {
    EXPECT_EQ(got.metrics[m].first, names[m]);
    EXPECT_NEAR(got.metric(names[m]), c["means"][names[m]].get<double>(), 1e-12) << names[m];
    const auto& want = c["per_query"][names[m]];
    const auto& values = got.per_query_values(names[m]);
    ASSERT_EQ(values.size(), want.size());
    for (size_t q = 0; q < values.size(); ++q) {
      if (want[q].is_null())
        EXPECT_TRUE(std::isnan(values[q])) << names[m] << " query " << q;
      else
        EXPECT_NEAR(values[q], want[q].get<double>(), 1e-12) << names[m] << " query " << q;
    }
  }
  EXPECT_EQ(got.relevant, c["relevant"].get<std::vector<int64_t>>());
  int64_t scored = 0;
  for (int64_t r : got.relevant) scored += r > 0;
  EXPECT_EQ(got.scored_queries, scored);
}

TEST(RetrievalMetrics, MatchFixture) {
  const auto fixture = load_fixture("eval.json");
  for (const auto& c : fixture["retrieval"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Tensor q = matrix(c["queries"]), x = matrix(c["database"]);
    const Tensor ql = labels(c["query_labels"]), xl = labels(c["database_labels"]);
    const bool self = c["exclude_self"];
    const KnnOptions options{parse_metric(c["metric"]), self, 4};
    const RetrievalOptions metrics{c["recall_ks"].get<std::vector<int64_t>>(), true};

    // The neighbour order itself, every rank.
    const auto want = c["neighbors"].get<std::vector<std::vector<int64_t>>>();
    const int64_t k = int64_t(want[0].size());
    const KnnResult nn = knn(q, x, k, options);
    const auto want_d = c["distances"].get<std::vector<std::vector<double>>>();
    for (int64_t i = 0; i < q.size(0); ++i)
      for (int64_t j = 0; j < k; ++j) {
        ASSERT_EQ(nn.indices.data<int64_t>()[i * k + j], want[size_t(i)][size_t(j)])
            << "query " << i << " rank " << j;
        EXPECT_NEAR(nn.distances.data<float>()[i * k + j], want_d[size_t(i)][size_t(j)], 1e-5);
      }

    expect_report_matches(retrieval_metrics(q, ql, x, xl, metrics, options), c);
    expect_report_matches(retrieval_metrics_from_neighbors(nn.indices, ql, xl, self, metrics), c);
    EvalOptions eval;
    eval.metric = options.metric;
    eval.clustering = false;
    eval.chunk_rows = 3;
    expect_report_matches(
        self ? evaluate_embeddings(q, ql, eval) : evaluate_query_gallery(q, ql, x, xl, eval), c);
  }
}

TEST(RetrievalMetrics, StreamingMatchesStoredNeighboursAtLargeR) {
  // Three classes of ~100: MAP@R searches each query's R ~ 99 nearest.
  Generator gen(7);
  const Tensor x = randn({301, 10}, DType::f32, &gen);
  std::vector<int64_t> l(301);
  for (int64_t i = 0; i < 301; ++i) l[size_t(i)] = (i * 5) % 3;
  const Tensor y = from_vector(l, {301});
  const RetrievalOptions options;
  const KnnOptions search{Metric::euclidean, true, 50};
  const RetrievalReport streamed = retrieval_metrics(x, y, x, y, options, search);
  const RetrievalReport stored =
      retrieval_metrics_from_neighbors(knn(x, x, 300, search).indices, y, y, true, options);
  ASSERT_EQ(streamed.metrics.size(), stored.metrics.size());
  for (size_t m = 0; m < stored.metrics.size(); ++m) {
    EXPECT_EQ(streamed.metrics[m], stored.metrics[m]);
    EXPECT_EQ(streamed.per_query[m], stored.per_query[m]);
  }
  EXPECT_EQ(streamed.relevant, stored.relevant);
}

TEST(RetrievalMetrics, ErrorsSayWhatToFix) {
  Generator gen(8);
  const Tensor x = randn({6, 3}, DType::f32, &gen);
  const Tensor y = from_vector(std::vector<int64_t>{0, 0, 1, 1, 2, 2}, {6});
  EvalOptions eval;
  eval.clustering = false;
  expect_error([&] { evaluate_embeddings(x, y, eval); },
               {"recall@8", "offers 5", "smaller recall_ks"});
  eval.recall_ks = {1, 2, 1};
  expect_error([&] { evaluate_embeddings(x, y, eval); }, {"recall@1", "twice"});
  eval.recall_ks = {1};
  expect_error([&] { evaluate_embeddings(x, y.slice(0, 5), eval); }, {"5 labels", "6 rows"});
  const KnnResult nn = knn(x, x, 1, {Metric::euclidean, true, 256});
  const Tensor triples = from_vector(std::vector<int64_t>{0, 0, 0, 1, 1, 1}, {6});  // R = 2
  expect_error(
      [&] {
        retrieval_metrics_from_neighbors(nn.indices, triples, triples, true, {{1}, true});
      },
      {"1 neighbours but needs 2", "search deeper"});
  expect_error([&] { evaluate_embeddings(x, y, eval).metric("nmi"); }, {"nmi", "recall@1"});
}

TEST(Breakdown, PerGroupMeanSkipsUnscoredQueries) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto groups = breakdown({1.0, 0.0, nan, 0.5, 1.0, nan}, {2, 1, 1, 2, 7, -4});
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].group, -4);
  EXPECT_EQ(groups[0].count, 0);
  EXPECT_TRUE(std::isnan(groups[0].mean));
  EXPECT_EQ(groups[1].group, 1);
  EXPECT_EQ(groups[1].count, 1);
  EXPECT_EQ(groups[1].mean, 0.0);
  EXPECT_EQ(groups[2].group, 2);
  EXPECT_EQ(groups[2].count, 2);
  EXPECT_EQ(groups[2].mean, 0.75);
  EXPECT_EQ(groups[3].group, 7);
  EXPECT_EQ(groups[3].mean, 1.0);
  expect_error([] { breakdown({1.0}, {1, 2}); }, {"1 per-query values", "2 group ids"});
}

// ---- clustering ----

TEST(ClusteringMetrics, MatchFixture) {
  const auto fixture = load_fixture("eval.json");
  for (const auto& c : fixture["clustering"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto l = c["labels"].get<std::vector<int64_t>>();
    const auto k = c["clusters"].get<std::vector<int64_t>>();
    EXPECT_NEAR(normalized_mutual_info(l, k), c["nmi"].get<double>(), 1e-12);
    EXPECT_NEAR(pairwise_f1(l, k), c["f1"].get<double>(), 1e-12);
  }
  expect_error([] { pairwise_f1({1, 2}, {1}); }, {"2 labels", "1 cluster"});
  expect_error([] { normalized_mutual_info({}, {}); }, {"no samples"});
}

// Four blobs far apart in 5-d, 60 rows each, in shuffled order.
struct Blobs {
  Tensor x;
  std::vector<int64_t> labels;
};
Blobs make_blobs(uint64_t seed) {
  Generator gen(seed);
  const int64_t per = 60, classes = 4, dim = 5, n = per * classes;
  const Tensor noise = randn({n, dim}, DType::f32, &gen);
  std::vector<float> v(size_t(n * dim));
  Blobs b{Tensor(), std::vector<int64_t>(size_t(n))};
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i * 7) % classes;
    b.labels[size_t(i)] = c;
    for (int64_t j = 0; j < dim; ++j)
      v[size_t(i * dim + j)] = (j == c ? 20.f : 0.f) + noise.data<float>()[i * dim + j];
  }
  b.x = from_vector(v, {n, dim});
  return b;
}

TEST(KMeans, FindsSeparatedBlobs) {
  const Blobs b = make_blobs(9);
  for (uint64_t seed : {0u, 1u, 2u}) {
    Generator gen(seed);
    const KMeansResult r = kmeans(b.x, {4, 100, 32}, gen);
    EXPECT_TRUE(r.converged);
    EXPECT_LT(r.iterations, 20);
    EXPECT_EQ(normalized_mutual_info(b.labels, r.assignments), 1.0);
    EXPECT_EQ(pairwise_f1(b.labels, r.assignments), 1.0);
    // Inertia is the sum of squared distances to the returned centroids.
    double inertia = 0;
    for (int64_t i = 0; i < b.x.size(0); ++i)
      for (int64_t j = 0; j < 5; ++j) {
        const double d = double(b.x.data<float>()[i * 5 + j]) -
                         r.centroids.data<float>()[r.assignments[size_t(i)] * 5 + j];
        inertia += d * d;
      }
    EXPECT_NEAR(r.inertia, inertia, 1e-3 * inertia);
  }
}

TEST(KMeans, SameSeedSameResult) {
  Generator gen(10);
  const Tensor x = randn({400, 6}, DType::f32, &gen);
  Generator a(42), b(42);
  const KMeansResult ra = kmeans(x, {7, 300, 64}, a), rb = kmeans(x, {7, 300, 64}, b);
  EXPECT_EQ(ra.assignments, rb.assignments);
  EXPECT_EQ(ra.centroids.to_vector<float>(), rb.centroids.to_vector<float>());
  EXPECT_EQ(a.state().offset, b.state().offset);
}

TEST(KMeans, MoreClustersThanDistinctRows) {
  // Three distinct rows, five clusters: empty clusters cannot all be filled;
  // every row still sits on its own centre.
  std::vector<float> v;
  for (int i = 0; i < 12; ++i) v.insert(v.end(), {float(i % 3), 1.f});
  Generator gen(11);
  const KMeansResult r = kmeans(from_vector(v, {12, 2}), {5, 50, 256}, gen);
  EXPECT_EQ(r.inertia, 0.0);
  for (int64_t c : r.assignments) EXPECT_TRUE(c >= 0 && c < 5);
  EXPECT_EQ(normalized_mutual_info({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, r.assignments), 1.0);
}

TEST(Evaluate, BlobsScorePerfectly) {
  const Blobs b = make_blobs(12);
  const Tensor y = from_vector(b.labels, {int64_t(b.labels.size())});
  for (Metric metric : {Metric::euclidean, Metric::cosine}) {
    EvalOptions options;
    options.metric = metric;
    const RetrievalReport r = evaluate_embeddings(b.x, y, options);
    std::vector<std::string> names;
    for (const auto& [name, value] : r.metrics) {
      names.push_back(name);
      EXPECT_EQ(value, 1.0) << name;
    }
    EXPECT_EQ(names,
              (std::vector<std::string>{"recall@1", "recall@2", "recall@4", "recall@8",
                                        "precision@1", "r_precision", "map@r", "nmi", "f1"}));
    EXPECT_EQ(r.cluster_assignments.size(), b.labels.size());
    EXPECT_EQ(r.scored_queries, 240);
  }
}

}  // namespace
}  // namespace dml::eval
