// The finDML fairness metrics (fairness/): retrieval and alignment per
// subgroup against values computed by hand on 7 points in 2-D, exact
// alignment against brute force and sampled alignment within its sampling
// error, subgroup roles and gaps, the leakage probe on encoded and
// independent attributes, the downstream classifiers and their training sets,
// the audit document's keys and the errors on bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "fairness/alignment.h"
#include "fairness/audit_intervals.h"
#include "fairness/audit_json.h"
#include "fairness/downstream.h"
#include "fairness/findml_metrics.h"
#include "fairness/groups.h"
#include "fairness/knn_classifier.h"
#include "fairness/leakage.h"
#include "fairness/logistic_regression.h"
#include "tests/support/test_support.h"

namespace dml::fairness {
namespace {

using test::expect_error;
using Json = nlohmann::ordered_json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor ids(const std::vector<int64_t>& v) {
  return from_vector(v, {int64_t(v.size())});
}

// Seven points in 2-D, two classes, two subgroups:
//
//   row  point  class  group        squared distances
//   0 A  (0,0)  1      0            A: B 1, C 4, D 5, E 9, F 18, G 25
//   1 B  (1,0)  1      0            B: A 1, D 4, E 4, C 5, F 13, G 16
//   2 C  (0,2)  2      0            C: D 1, A 4, B 5, F 10, E 13, G 29
//   3 D  (1,2)  2      0            D: C 1, B 4, A 5, F 5, E 8, G 20
//   4 E  (3,0)  1      1            E: B 4, G 4, D 8, A 9, F 9, C 13
//   5 F  (3,3)  2      1            F: D 5, E 9, C 10, B 13, G 13, A 18
//   6 G  (5,0)  1      1            G: E 4, F 13, B 16, D 20, A 25, C 29
//
// (neighbours listed nearest first, ties to the lower row, as eval's kNN).
struct SevenPoints {
  Tensor x = from_vector(std::vector<float>{0, 0, 1, 0, 0, 2, 1, 2, 3, 0, 3, 3, 5, 0}, {7, 2});
  Tensor labels = ids({1, 1, 2, 2, 1, 2, 1});
  Tensor groups = ids({0, 0, 0, 0, 1, 1, 1});
};

// Seven points offer 6 neighbours: the default recall@8 would not fit.
FinDmlOptions small_split_options() {
  FinDmlOptions options;
  options.recall_ks = {1, 2};
  return options;
}

// Retrieval, R = 3 for class 1 and 2 for class 2; every nearest neighbour
// shares the query's class, so recall@1 = recall@2 = 1 everywhere.
//   query  R nearest (rel?)   r_precision  map@r
//   A      B+ C- D-           1/3          1/3
//   B      A+ D- E+           2/3          (1 + 2/3) / 3 = 5/9
//   C      D+ A-              1/2          1/2
//   D      C+ B-              1/2          1/2
//   E      B+ G+ D-           2/3          (1 + 1) / 3 = 2/3
//   F      D+ E-              1/2          1/2
//   G      E+ F- B+           2/3          (1 + 2/3) / 3 = 5/9
// Group 0 (A-D): r_precision 2/4 = 1/2, map@r (1/3 + 5/9 + 1/2 + 1/2) / 4 = 17/36.
// Group 1 (E-G): r_precision (2/3 + 1/2 + 2/3) / 3 = 11/18,
//                map@r (2/3 + 1/2 + 5/9) / 3 = 31/54.
// Overall: r_precision 23/42, map@r 65/126.
// Minority = group 1 (3 samples, the smaller), majority = group 0.
TEST(FinDmlMetrics, RetrievalPerGroupMatchesHandValues) {
  SevenPoints p;
  FinDmlOptions options = small_split_options();
  const FinDmlReport r = findml_metrics(p.x, p.labels, p.groups, options);
  EXPECT_EQ(r.subgroups.values, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r.subgroups.counts, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(r.subgroups.minority, 1);
  EXPECT_EQ(r.subgroups.majority, 0);
  const GroupComparison& c = r.retrieval;
  EXPECT_EQ(c.names, (std::vector<std::string>{"recall@1", "recall@2", "map@r", "r_precision"}));
  for (size_t g = 0; g < 2; ++g) {
    EXPECT_DOUBLE_EQ(c.value(g, "recall@1"), 1.0);
    EXPECT_DOUBLE_EQ(c.value(g, "recall@2"), 1.0);
  }
  EXPECT_NEAR(c.value(0, "r_precision"), 1.0 / 2, 1e-12);
  EXPECT_NEAR(c.value(0, "map@r"), 17.0 / 36, 1e-12);
  EXPECT_NEAR(c.value(1, "r_precision"), 11.0 / 18, 1e-12);
  EXPECT_NEAR(c.value(1, "map@r"), 31.0 / 54, 1e-12);
  EXPECT_NEAR(c.overall[2], 65.0 / 126, 1e-12);  // map@r
  EXPECT_NEAR(c.overall[3], 23.0 / 42, 1e-12);   // r_precision
  // Gaps: 11/18 - 1/2 = 1/9 and 31/54 - 17/36 = 11/108; recall gaps are 0.
  EXPECT_NEAR(c.gap_max_min[3], 1.0 / 9, 1e-12);
  EXPECT_NEAR(c.gap_minority_majority[3], 1.0 / 9, 1e-12);
  EXPECT_NEAR(c.gap_minority_majority[2], 11.0 / 108, 1e-12);
  EXPECT_DOUBLE_EQ(c.gap_max_min[0], 0.0);
  // Naming group 0 the minority flips the sign of the minority-majority gap.
  options.minority = 0;
  const FinDmlReport flipped = findml_metrics(p.x, p.labels, p.groups, options);
  EXPECT_NEAR(flipped.retrieval.gap_minority_majority[3], -1.0 / 9, 1e-12);
  EXPECT_NEAR(flipped.retrieval.gap_max_min[3], 1.0 / 9, 1e-12);
}

// Alignment of the same points, pairs inside each group (d = squared distance):
//   group 0: same-class AB 1, CD 1; different-class AC 4, AD 5, BC 5, BD 4
//     intra 1, inter 18/4 = 4.5, uniformity log((2e^-2 + 2e^-8 + 2e^-10) / 6)
//   group 1: same-class EG 4; different-class EF 9, FG 13
//     intra 4, inter 11, uniformity log((e^-8 + e^-18 + e^-26) / 3)
// gaps (minority 1 - majority 0): intra 3, inter 6.5.
TEST(FinDmlMetrics, AlignmentMatchesHandValues) {
  SevenPoints p;
  const FinDmlReport r = findml_metrics(p.x, p.labels, p.groups, small_split_options());
  const GroupComparison& a = r.alignment;
  EXPECT_EQ(a.names, (std::vector<std::string>{"intra_class", "inter_class", "uniformity"}));
  EXPECT_TRUE(a.overall.empty());
  EXPECT_NEAR(a.value(0, "intra_class"), 1.0, 1e-12);
  EXPECT_NEAR(a.value(0, "inter_class"), 4.5, 1e-12);
  EXPECT_NEAR(a.value(0, "uniformity"),
              std::log((2 * std::exp(-2.0) + 2 * std::exp(-8.0) + 2 * std::exp(-10.0)) / 6), 1e-12);
  EXPECT_NEAR(a.value(1, "intra_class"), 4.0, 1e-12);
  EXPECT_NEAR(a.value(1, "inter_class"), 11.0, 1e-12);
  EXPECT_NEAR(a.value(1, "uniformity"),
              std::log((std::exp(-8.0) + std::exp(-18.0) + std::exp(-26.0)) / 3), 1e-12);
  EXPECT_NEAR(a.gap_minority_majority[0], 3.0, 1e-12);
  EXPECT_NEAR(a.gap_max_min[1], 6.5, 1e-12);
  EXPECT_FALSE(r.sampled);
}

// t scales the exponent: group 1 with t = 0.5 gives log((e^-2 + e^-4.5 + e^-6.5) / 3).
TEST(FinDmlMetrics, UniformityUsesTheTemperature) {
  SevenPoints p;
  FinDmlOptions options = small_split_options();
  options.t = 0.5;
  const FinDmlReport r = findml_metrics(p.x, p.labels, p.groups, options);
  EXPECT_NEAR(r.alignment.value(1, "uniformity"),
              std::log((std::exp(-2.0) + std::exp(-4.5) + std::exp(-6.5)) / 3), 1e-12);
}

// With the cosine metric, alignment is measured on L2-normalised rows:
// (2,0) and (5,0) coincide (d = 0), (2,0) and (0,3) are orthogonal (d = 2).
TEST(FinDmlMetrics, CosineAlignmentUsesNormalisedRows) {
  const Tensor x = from_vector(std::vector<float>{2, 0, 5, 0, 0, 3, 0, 1, 1, 1, 3, 3}, {6, 2});
  const Tensor labels = ids({1, 1, 2, 2, 1, 2});
  const Tensor groups = ids({0, 0, 0, 0, 1, 1});
  FinDmlOptions options;
  options.metric = eval::Metric::cosine;
  options.recall_ks = {1};
  const FinDmlReport r = findml_metrics(x, labels, groups, options);
  // Group 0: same-class pairs both d = 0; the four different-class pairs d = 2.
  EXPECT_NEAR(r.alignment.value(0, "intra_class"), 0.0, 1e-12);
  EXPECT_NEAR(r.alignment.value(0, "inter_class"), 2.0, 1e-12);
  // Group 1: (1,1) and (3,3) normalise to the same point.
  EXPECT_NEAR(r.alignment.value(1, "inter_class"), 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(r.alignment.value(1, "intra_class")));  // one sample per class
}

// Brute-force reference of the three statistics over all pairs of one kind,
// with the standard deviation of the per-pair values (for sampling error).
struct PairMoments {
  double mean = 0, sd = 0;
};
struct Reference {
  PairMoments intra, inter, kernel;  // kernel: exp(-t d) over all pairs
};

Reference brute_force(const Tensor& x, const std::vector<int64_t>& labels, double t) {
  const int64_t n = x.size(0), dim = x.size(1);
  const double* v = x.data<double>();
  std::vector<double> intra, inter, kernel;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      double d = 0;
      for (int64_t k = 0; k < dim; ++k)
        d += (v[i * dim + k] - v[j * dim + k]) * (v[i * dim + k] - v[j * dim + k]);
      (labels[size_t(i)] == labels[size_t(j)] ? intra : inter).push_back(d);
      kernel.push_back(std::exp(-t * d));
    }
  auto moments = [](const std::vector<double>& xs) {
    double s = 0, s2 = 0;
    for (double x : xs) s += x;
    const double m = s / double(xs.size());
    for (double x : xs) s2 += (x - m) * (x - m);
    return PairMoments{m, std::sqrt(s2 / double(xs.size()))};
  };
  return {moments(intra), moments(inter), moments(kernel)};
}

// 1100 rows (three tiles of 512 and their cross terms), skewed classes (60%,
// 30%, 10%) offset along dim 0 by half their label, values of moderate spread
// so that exp(-2 d) is well scaled.
struct RandomGroup {
  Tensor x;
  std::vector<int64_t> labels;
  explicit RandomGroup(int64_t n) {
    Generator gen(7);
    x = mul(randn({n, 6}, DType::f64, &gen), 0.3);
    double* v = x.data<double>();
    for (int64_t i = 0; i < n; ++i) {
      labels.push_back(i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2);
      v[i * 6] += 0.5 * double(labels.back());
    }
  }
};

TEST(Alignment, ExactTilesMatchBruteForce) {
  RandomGroup g(1100);
  const Reference ref = brute_force(g.x, g.labels, 2);
  Generator gen(0);
  const AlignmentStats s = alignment_stats(g.x, g.labels, 2, 1'000'000, gen);
  EXPECT_FALSE(s.sampled);
  EXPECT_NEAR(s.intra_class, ref.intra.mean, 1e-10 * ref.intra.mean);
  EXPECT_NEAR(s.inter_class, ref.inter.mean, 1e-10 * ref.inter.mean);
  EXPECT_NEAR(s.uniformity, std::log(ref.kernel.mean), 1e-10);
}

// 604,450 pairs > max_pairs = 20,000: each statistic is a mean of 20,000
// uniform draws, within 5 standard errors of the exact value.
TEST(Alignment, SampledAgreesWithExactWithinSamplingError) {
  RandomGroup g(1100);
  const Reference ref = brute_force(g.x, g.labels, 2);
  const int64_t draws = 20'000;
  Generator gen(3);
  const AlignmentStats s = alignment_stats(g.x, g.labels, 2, draws, gen);
  EXPECT_TRUE(s.sampled);
  const double root = std::sqrt(double(draws));
  EXPECT_NEAR(s.intra_class, ref.intra.mean, 5 * ref.intra.sd / root);
  EXPECT_NEAR(s.inter_class, ref.inter.mean, 5 * ref.inter.sd / root);
  EXPECT_NEAR(std::exp(s.uniformity), ref.kernel.mean, 5 * ref.kernel.sd / root);
  // The kinds are told apart: classes are offset, so inter exceeds intra by
  // far more than the sampling error.
  EXPECT_GT(ref.inter.mean - ref.intra.mean, 0.2);
  // The same seed draws the same pairs.
  Generator again(3);
  EXPECT_EQ(alignment_stats(g.x, g.labels, 2, draws, again).intra_class, s.intra_class);
}

// Through findml_metrics: the report says when pairs were sampled.
TEST(FinDmlMetrics, ReportsSampledPairs) {
  SevenPoints p;
  FinDmlOptions options = small_split_options();
  options.max_pairs = 5;  // group 0 has 6 pairs, group 1 has 3
  const FinDmlReport r = findml_metrics(p.x, p.labels, p.groups, options);
  EXPECT_TRUE(r.sampled);
  EXPECT_EQ(r.max_pairs, 5);
  // Group 1 stays exact; group 0's intra pairs both have d = 1.
  EXPECT_NEAR(r.alignment.value(1, "inter_class"), 11.0, 1e-12);
  EXPECT_NEAR(r.alignment.value(0, "intra_class"), 1.0, 1e-12);
}

TEST(Subgroups, MinorityAndMajority) {
  // Counts: value 0: 5, 1: 2, 2: 3.
  const std::vector<int64_t> g = {0, 0, 0, 0, 0, 1, 1, 2, 2, 2};
  Subgroups s = find_subgroups(g, kSmallestGroup, "test");
  EXPECT_EQ(s.minority, 1);
  EXPECT_EQ(s.majority, 0);
  s = find_subgroups(g, 0, "test");  // the largest named minority
  EXPECT_EQ(s.minority, 0);
  EXPECT_EQ(s.majority, 2);
  // Ties go to the lowest value: counts 3, 3, 1.
  s = find_subgroups({5, 5, 5, 7, 7, 7, 9}, kSmallestGroup, "test");
  EXPECT_EQ(s.minority, 9);
  EXPECT_EQ(s.majority, 5);
  s = find_subgroups({5, 7}, kSmallestGroup, "test");
  EXPECT_EQ(s.minority, 5);
  EXPECT_EQ(s.majority, 7);
  expect_error([&] { find_subgroups(g, 4, "test"); }, {"minority value 4", "not an attribute"});
  // A given majority (the training split's) holds even where another
  // subgroup is larger in the data at hand.
  s = find_subgroups(g, 1, "test", 2);
  EXPECT_EQ(s.minority, 1);
  EXPECT_EQ(s.majority, 2);
  expect_error([&] { find_subgroups(g, 1, "test", 1); },
               {"majority value 1", "other than the minority 1"});
  expect_error([&] { find_subgroups(g, 1, "test", 6); }, {"majority value 6"});
  expect_error(
      [&] {
        find_subgroups({3, 3, 3}, kSmallestGroup, "test");
      },
      {"1 value(s)", "at least two subgroups"});
}

TEST(Subgroups, GapsSkipMissingValues) {
  const Subgroups s = find_subgroups({0, 0, 0, 1, 2, 2}, kSmallestGroup, "test");  // minority 1
  const GroupComparison c = compare_groups(s, {"m", "n"}, {{1.0, 0.5}, {kNaN, 0.2}, {0.25, 0.9}});
  EXPECT_DOUBLE_EQ(c.gap_max_min[0], 0.75);             // 1 - 0.25, NaN skipped
  EXPECT_TRUE(std::isnan(c.gap_minority_majority[0]));  // the minority has no value
  EXPECT_DOUBLE_EQ(c.gap_max_min[1], 0.7);
  EXPECT_DOUBLE_EQ(c.gap_minority_majority[1], 0.2 - 0.5);
  const GroupComparison lone = compare_groups(s, {"m"}, {{1.0}, {kNaN}, {kNaN}});
  EXPECT_TRUE(std::isnan(lone.gap_max_min[0]));  // fewer than two subgroups with a value
}

// N samples in D dims of standard noise, seeded.
Tensor noise(int64_t n, int64_t dim, uint64_t seed) {
  Generator gen(seed);
  return randn({n, dim}, DType::f32, &gen);
}

TEST(Leakage, RecoversAnAttributeEncodedInOneDimension) {
  const int64_t n = 400;
  Tensor x = noise(n, 4, 1);
  std::vector<int64_t> attribute;
  float* v = x.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    attribute.push_back(i % 4 == 0 ? 1 : 0);  // skewed: 25% ones
    v[i * 4 + 2] = float(attribute.back());
  }
  const LeakageResult r = attribute_leakage(x, ids(attribute), {});
  EXPECT_GE(r.balanced_accuracy, 0.99);
  EXPECT_DOUBLE_EQ(r.chance, 0.5);
  EXPECT_EQ(r.values, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r.train_count, 200);  // 150 + 50, stratified
  EXPECT_EQ(r.test_count, 200);
}

TEST(Leakage, IndependentAttributeScoresNearChance) {
  const int64_t n = 600;
  std::vector<int64_t> attribute;
  for (int64_t i = 0; i < n; ++i) attribute.push_back(i % 3);
  const LeakageResult r = attribute_leakage(noise(n, 4, 2), ids(attribute), {});
  EXPECT_NEAR(r.chance, 1.0 / 3, 1e-15);
  // 300 scored samples: the standard deviation of chance accuracy is ~0.027.
  EXPECT_NEAR(r.balanced_accuracy, 1.0 / 3, 0.1);
  // Seeded: the same seed gives the same split and score; another seed a new split.
  EXPECT_EQ(attribute_leakage(noise(n, 4, 2), ids(attribute), {}).balanced_accuracy,
            r.balanced_accuracy);
  LeakageOptions other;
  other.seed = 9;
  EXPECT_NE(attribute_leakage(noise(n, 4, 2), ids(attribute), other).balanced_accuracy,
            r.balanced_accuracy);
}

// An attribute a linear probe cannot find but k-NN can: the colour of a 3 x 3
// checkerboard's square under points spread over the unit square (no line
// does much better than chance on it). This is what the two probes together
// tell apart: information still there, in a non-linear form.
TEST(Leakage, KnnProbeFindsWhatTheLinearProbeCannot) {
  const int64_t n = 1000;
  Generator gen(3);
  Tensor x = rand({n, 2}, DType::f32, &gen);
  const float* v = x.data<float>();
  std::vector<int64_t> attribute;
  for (int64_t i = 0; i < n; ++i)
    attribute.push_back((int64_t(3 * v[2 * i]) + int64_t(3 * v[2 * i + 1])) % 2);
  const LeakageResult r = attribute_leakage(x, ids(attribute), {});
  EXPECT_LT(r.balanced_accuracy, 0.62);
  EXPECT_GT(r.knn_balanced_accuracy, 0.85);
  EXPECT_EQ(r.knn_k, 10);
  // Fewer training samples than k: the vote takes them all.
  const LeakageResult few =
      attribute_leakage(narrow(x, 0, 0, 8), ids({0, 1, 0, 1, 0, 1, 0, 1}), {});
  EXPECT_EQ(few.knn_k, 4);
}

// Intersections of two attributes from hand-made per-query values: the
// combinations present, their sizes and means, the worst-off named, and the
// worst - best gap with a bootstrap interval around it.
//   query      0    1    2    3    4    5    6    7
//   tone       0    0    0    0    1    1    1    1
//   pattern    0    1    0    1    0    1    0    1
//   recall@1   1    0    1    1    0    0    1    NaN
//   map@r      .5   .25  1    .75  0    .5   .5   .5
// tone=0,pattern=0: R@1 1, map@r .75; tone=0,pattern=1: .5, .5;
// tone=1,pattern=0: .5, .25; tone=1,pattern=1: 0 (one scored query), .5.
TEST(AuditIntersections, EveryCombinationWithTheWorstOffNamed) {
  FinDmlReport report;
  report.retrieval.names = {"recall@1", "map@r"};
  report.retrieval_per_query = {{1, 0, 1, 1, 0, 0, 1, kNaN}, {.5, .25, 1, .75, 0, .5, .5, .5}};
  const std::vector<std::vector<int64_t>> rows = {{0, 0}, {0, 1}, {0, 0}, {0, 1},
                                                  {1, 0}, {1, 1}, {1, 0}, {1, 1}};
  const Json x =
      intersections(report, {"tone", "pattern"}, {}, rows, {.resamples = 500, .seed = 1});
  ASSERT_EQ(x["groups"].size(), 4u);
  const std::vector<std::string> names = {"tone=0,pattern=0", "tone=0,pattern=1",
                                          "tone=1,pattern=0", "tone=1,pattern=1"};
  const std::vector<double> recall = {1, 0.5, 0.5, 0}, map_r = {0.75, 0.5, 0.25, 0.5};
  for (size_t g = 0; g < 4; ++g) {
    EXPECT_EQ(x["groups"][g]["name"], names[g]);
    EXPECT_EQ(x["groups"][g]["count"], 2);
    EXPECT_DOUBLE_EQ(x["groups"][g]["recall@1"].get<double>(), recall[g]) << names[g];
    EXPECT_DOUBLE_EQ(x["groups"][g]["map@r"].get<double>(), map_r[g]) << names[g];
  }
  EXPECT_EQ(x["worst"], "tone=1,pattern=1");
  EXPECT_EQ(x["best"], "tone=0,pattern=0");
  EXPECT_DOUBLE_EQ(x["gap_worst_best"]["recall@1"].get<double>(), -1.0);
  // Both groups are constant in their scored queries: the interval is the point.
  EXPECT_EQ(x["gap_worst_best"]["interval"], Json::array({-1.0, -1.0}));
  // A group of two mixed queries resamples to 0, 0.5 or 1.
  const Json& mixed = x["groups"][1]["recall@1_interval"];
  EXPECT_EQ(mixed, Json::array({0.0, 1.0}));
  expect_error([&] { intersections(report, {"tone"}, {}, rows, {}); }, {"two attributes"});
  expect_error(
      [&] {
        intersections(report, {"tone", "pattern"}, {}, {{0, 0}}, {});
      },
      {"1 attribute rows for 8 queries"});
  // Named values name the intersections; an attribute without names keeps numbers.
  const Json named = intersections(report, {"tone", "pattern"},
                                   {{{0, "original"}, {1, "inverted"}}}, rows, {.resamples = 10});
  EXPECT_EQ(named["groups"][2]["name"], "tone=inverted,pattern=0");
  EXPECT_EQ(named["worst"], "tone=inverted,pattern=1");
}

TEST(LogisticRegression, PredictsTheOriginalLabelValuesAndIgnoresConstantFeatures) {
  // Three classes (labels 5, 7, 9) ordered along feature 0; feature 1 constant.
  std::vector<float> v;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 90; ++i) {
    const int64_t c = i % 3;
    v.push_back(float(c) * 3 + float(i % 10) * 0.1f);
    v.push_back(4.0f);
    y.push_back(5 + 2 * c);
  }
  const Tensor x = from_vector(v, {90, 2});
  const LogisticModel m = fit_logistic_regression(x, ids(y));
  EXPECT_EQ(m.classes, (std::vector<int64_t>{5, 7, 9}));
  EXPECT_EQ(predict(m, x).to_vector<int64_t>(), y);  // the middle class included
  expect_error([&] { fit_logistic_regression(x, ids(std::vector<int64_t>(90, 3))); },
               {"1 distinct value", "at least two"});
  expect_error([&] { predict(m, noise(4, 3, 0)); }, {"predict", "same width"});
}

TEST(KnnClassifier, MajorityVoteWithTiesToTheNearest) {
  const Tensor train = from_vector(std::vector<float>{0, 0, 1, 0, 2, 0, -1.5f, 0}, {4, 2});
  const Tensor labels = ids({1, 2, 2, 1});
  const Tensor queries = from_vector(std::vector<float>{0.1f, 0, 1.2f, 0}, {2, 2});
  // Query 0's 4 nearest: 1 (0.01), 2 (0.81), 1 (2.56), 2 (3.61): a 2-2 tie,
  // won by the nearest's label. Query 1's 3 nearest: 2, 2, 1.
  EXPECT_EQ(knn_classify(train, labels, queries, 4, eval::Metric::euclidean).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(knn_classify(train, labels, queries, 3, eval::Metric::euclidean).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2}));
  expect_error([&] { knn_classify(train, labels, queries, 5, eval::Metric::euclidean); },
               {"k = 5", "[1, 4]"});
}

// 4 classes x 100 samples, half of each class in subgroup 1, around class
// centres 10 apart in 8-D with unit noise: linearly separable.
struct SeparableData {
  Tensor x;
  std::vector<int64_t> labels, groups;
  SeparableData() {
    x = noise(400, 8, 5);
    float* v = x.data<float>();
    for (int64_t i = 0; i < 400; ++i) {
      labels.push_back(i % 4);
      groups.push_back((i / 4) % 2);
      v[i * 8 + i % 4] += 10;
    }
  }
};

TEST(Downstream, SplitSubsamplesTheMinorityThenTheMajority) {
  SeparableData d;
  // Each (class, group) cell has 50 samples: 25 train, 25 test. Imbalanced
  // with share 0.2: 25 majority + round(0.25 * 25) = 6 minority per class.
  // Balanced: 6 + 6 per class.
  const DownstreamSplit s = downstream_split(d.labels, d.groups, 1, 0.2, 0);
  EXPECT_EQ(s.test.size(), 200u);
  EXPECT_EQ(s.train_imbalanced.size(), 4u * 31);
  EXPECT_EQ(s.train_balanced.size(), 4u * 12);
  auto count = [&](const std::vector<int64_t>& set, int64_t label, int64_t group) {
    return std::count_if(set.begin(), set.end(), [&](int64_t i) {
      return d.labels[size_t(i)] == label && d.groups[size_t(i)] == group;
    });
  };
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_EQ(count(s.test, c, 0), 25);
    EXPECT_EQ(count(s.test, c, 1), 25);
    EXPECT_EQ(count(s.train_imbalanced, c, 0), 25);
    EXPECT_EQ(count(s.train_imbalanced, c, 1), 6);
    EXPECT_EQ(count(s.train_balanced, c, 0), 6);
    EXPECT_EQ(count(s.train_balanced, c, 1), 6);
  }
  // balanced within imbalanced, both disjoint from the test half.
  const std::set<int64_t> test(s.test.begin(), s.test.end());
  const std::set<int64_t> imbalanced(s.train_imbalanced.begin(), s.train_imbalanced.end());
  for (int64_t i : s.train_imbalanced) EXPECT_FALSE(test.count(i));
  for (int64_t i : s.train_balanced) EXPECT_TRUE(imbalanced.count(i));
  // The 5% skew keeps at least one minority sample per class: round(25 / 19) = 1.
  const DownstreamSplit skewed = downstream_split(d.labels, d.groups, 1, 0.05, 0);
  EXPECT_EQ(skewed.train_imbalanced.size(), 4u * 26);
  EXPECT_EQ(skewed.train_balanced.size(), 4u * 2);
  expect_error([&] { downstream_split(d.labels, d.groups, 1, 1.0, 0); },
               {"minority_share = 1", "(0, 1)"});
}

TEST(Downstream, ClassifiersOnSeparableDataAreAccurate) {
  SeparableData d;
  DownstreamOptions options;
  options.minority = 1;
  options.minority_share = 0.2;
  const DownstreamReport r = downstream_classifiers(d.x, ids(d.labels), ids(d.groups), options);
  ASSERT_EQ(r.results.size(), 4u);
  const std::vector<std::string> names = {"logistic_imbalanced", "logistic_balanced",
                                          "knn_imbalanced", "knn_balanced"};
  for (size_t i = 0; i < 4; ++i) {
    const DownstreamResult& res = r.results[i];
    EXPECT_EQ(res.name, names[i]);
    EXPECT_GE(res.accuracy.overall[0], 0.97) << res.name;
    EXPECT_GE(res.accuracy.value(1, "accuracy"), 0.95) << res.name;
    EXPECT_LE(std::abs(res.accuracy.gap_minority_majority[0]), 0.05) << res.name;
  }
  EXPECT_EQ(r.result("knn_balanced").train_count, 48);
  EXPECT_EQ(r.result("logistic_imbalanced").train_count, 124);
  expect_error([&] { r.result("svm_balanced"); }, {"svm_balanced", "knn_balanced"});
}

// A subgroup that sits apart from its class and is rare in training: the
// kNN classifier trained on the imbalanced set finds mostly the other class
// around it, so the minority's accuracy and the gap drop.
TEST(Downstream, GapShowsAMinorityTheClassifierBarelySaw) {
  // 2 classes along feature 0 (at 0 and 3); the minority of class 0 sits at
  // class 1's position in feature 0, lifted to 3 in feature 1. Its one
  // training sample is outvoted by the class-1 samples 3 away.
  const int64_t n = 400;
  Tensor x = mul(noise(n, 2, 11), 0.3);
  float* v = x.data<float>();
  std::vector<int64_t> labels, groups;
  for (int64_t i = 0; i < n; ++i) {
    labels.push_back(i % 2);
    groups.push_back((i / 2) % 2);
    const bool shifted = labels.back() == 0 && groups.back() == 1;
    v[i * 2] += labels.back() == 1 || shifted ? 3.0f : 0.0f;
    v[i * 2 + 1] += shifted ? 3.0f : 0.0f;
  }
  DownstreamOptions options;
  options.minority = 1;
  options.minority_share = 0.02;  // one minority sample per class
  const DownstreamReport r = downstream_classifiers(x, ids(labels), ids(groups), options);
  const GroupComparison& acc = r.result("knn_imbalanced").accuracy;
  EXPECT_LT(acc.value(1, "accuracy"), 0.75);  // class 0's minority misclassified
  EXPECT_GT(acc.value(0, "accuracy"), 0.95);
  EXPECT_LT(acc.gap_minority_majority[0], -0.2);
  EXPECT_NEAR(acc.gap_max_min[0], -acc.gap_minority_majority[0], 1e-12);
  // The balanced set has 2 samples per class, fewer than k = 5: kNN votes
  // with all 4.
  EXPECT_EQ(r.result("knn_balanced").train_count, 4);
}

// One sample per (class, subgroup) cell: all of them go to the test half,
// and the error says what the classifiers lack.
TEST(Downstream, CellsOfOneSampleLeaveNothingToTrainOn) {
  const std::vector<int64_t> labels = {0, 0, 1, 1}, groups = {0, 1, 0, 1};
  DownstreamOptions options;
  options.minority = 1;
  expect_error([&] { downstream_classifiers(noise(4, 2, 3), ids(labels), ids(groups), options); },
               {"imbalanced training set has 0 sample(s)", "at least 2 samples of every subgroup"});
}

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> out;
  for (const auto& item : j.items()) out.push_back(item.key());
  return out;
}

// The keys fairness/AUDIT_SCHEMA.md fixes, in its order.
TEST(AuditJson, KeysMatchTheSchema) {
  SevenPoints p;
  FinDmlOptions options = small_split_options();
  options.attribute = "tone";
  const Json f = to_json(findml_metrics(p.x, p.labels, p.groups, options));
  EXPECT_EQ(keys(f), (std::vector<std::string>{"minority", "majority", "groups", "sampled",
                                               "retrieval", "alignment"}));
  EXPECT_EQ(f["minority"], 1);
  EXPECT_EQ(f["majority"], 0);
  EXPECT_EQ(f["groups"].dump(),
            R"([{"value":0,"name":"tone=0","count":4},{"value":1,"name":"tone=1","count":3}])");
  // Named values: the name says what the value means, the value stays the code.
  options.value_names = {{1, "inverted <&>"}};
  const Json named = to_json(findml_metrics(p.x, p.labels, p.groups, options));
  EXPECT_EQ(named["groups"].dump(), R"([{"value":0,"name":"tone=0","count":4},)"
                                    R"({"value":1,"name":"tone=inverted <&>","count":3}])");
  EXPECT_EQ(f["sampled"].dump(), R"({"pairs":false,"max_pairs":2000000})");
  const Json& ret = f["retrieval"];
  EXPECT_EQ(keys(ret), (std::vector<std::string>{"overall", "per_group", "gap_max_min",
                                                 "gap_minority_majority"}));
  EXPECT_EQ(keys(ret["overall"]),
            (std::vector<std::string>{"recall@1", "recall@2", "map@r", "r_precision"}));
  EXPECT_EQ(keys(ret["per_group"]), (std::vector<std::string>{"0", "1"}));
  EXPECT_NEAR(ret["per_group"]["1"]["map@r"].get<double>(), 31.0 / 54, 1e-12);
  const Json& al = f["alignment"];
  EXPECT_EQ(keys(al),
            (std::vector<std::string>{"per_group", "gap_max_min", "gap_minority_majority"}));
  EXPECT_EQ(keys(al["per_group"]["0"]),
            (std::vector<std::string>{"intra_class", "inter_class", "uniformity"}));
  EXPECT_DOUBLE_EQ(al["gap_minority_majority"]["inter_class"].get<double>(), 6.5);

  std::vector<int64_t> attribute;
  for (int64_t i = 0; i < 40; ++i) attribute.push_back(i % 2);
  const Json leak = to_json(attribute_leakage(noise(40, 3, 4), ids(attribute), {}));
  EXPECT_EQ(keys(leak), (std::vector<std::string>{"balanced_accuracy", "knn_balanced_accuracy",
                                                  "chance", "probe", "knn_probe"}));
  EXPECT_EQ(leak["probe"], "logistic regression, 50/50 split");

  SeparableData d;
  const Json down = to_json(downstream_classifiers(d.x, ids(d.labels), ids(d.groups), {}));
  EXPECT_EQ(keys(down), (std::vector<std::string>{"logistic_imbalanced", "logistic_balanced",
                                                  "knn_imbalanced", "knn_balanced"}));
  EXPECT_EQ(
      keys(down["knn_balanced"]),
      (std::vector<std::string>{"overall", "per_group", "gap_max_min", "gap_minority_majority"}));
  EXPECT_TRUE(down["knn_balanced"]["per_group"]["0"].is_number());
  EXPECT_TRUE(down["knn_balanced"]["gap_max_min"].is_number());
}

// A subgroup of one sample has no pairs: its alignment is NaN, written as
// null, and the gaps fall back to the other subgroups (or null).
TEST(AuditJson, ValuesWithNothingToAverageAreNull) {
  SevenPoints p;
  const Tensor groups = ids({0, 0, 0, 0, 0, 0, 1});  // G alone in group 1
  const FinDmlReport r = findml_metrics(p.x, p.labels, groups, small_split_options());
  EXPECT_TRUE(std::isnan(r.alignment.value(1, "uniformity")));
  const Json j = to_json(r);
  EXPECT_TRUE(j["alignment"]["per_group"]["1"]["intra_class"].is_null());
  EXPECT_TRUE(j["alignment"]["gap_max_min"]["uniformity"].is_null());
  EXPECT_TRUE(j["alignment"]["gap_minority_majority"]["inter_class"].is_null());
  EXPECT_TRUE(j["alignment"]["per_group"]["0"]["intra_class"].is_number());
  // G's retrieval is still scored against the whole split: its nearest, E, is class 1.
  EXPECT_DOUBLE_EQ(j["retrieval"]["per_group"]["1"]["recall@1"].get<double>(), 1.0);
  EXPECT_TRUE(json_number(std::numeric_limits<double>::infinity()).is_null());
}

TEST(FairnessErrors, BadInputsNameTheProblem) {
  SevenPoints p;
  expect_error(
      [&] {
        findml_metrics(p.x, ids({1, 1, 2}), p.groups, {});
      },
      {"findml_metrics", "labels has 3 entries for 7"});
  expect_error(
      [&] {
        findml_metrics(p.x, p.labels, ids({0, 1}), {});
      },
      {"groups has 2 entries for 7"});
  expect_error(
      [&] { findml_metrics(p.x, p.labels, from_vector(std::vector<float>(7, 0.f), {7}), {}); },
      {"groups must be an i64 vector"});
  expect_error([&] { findml_metrics(p.x.reshape({14}), p.labels, p.groups, {}); },
               {"floating matrix [N, D]"});
  expect_error(
      [&] {
        findml_metrics(p.x, p.labels, ids({0, 0, 0, 0, 0, 0, 0}), {});
      },
      {"at least two subgroups"});
  FinDmlOptions options = small_split_options();
  options.minority = 3;
  expect_error([&] { findml_metrics(p.x, p.labels, p.groups, options); }, {"minority value 3"});
  options = small_split_options();
  options.max_pairs = 0;
  expect_error([&] { findml_metrics(p.x, p.labels, p.groups, options); }, {"max_pairs = 0"});
  options = small_split_options();
  options.recall_ks = {8};
  expect_error([&] { findml_metrics(p.x, p.labels, p.groups, options); }, {"recall@8"});
  expect_error(
      [&] {
        attribute_leakage(p.x, ids({0, 0, 0, 0, 0, 0, 1}), {});
      },
      {"attribute value 1 has 1 sample", "at least 2 per value"});
  expect_error(
      [&] {
        downstream_classifiers(p.x, p.labels, ids({0, 1}), {});
      },
      {"downstream_classifiers", "groups has 2 entries for 7"});
}

}  // namespace
}  // namespace dml::fairness
