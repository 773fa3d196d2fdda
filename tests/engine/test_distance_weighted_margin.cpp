// The fused margin loss on distance-weighted triplets and the draws alone
// (engine/distance_weighted_margin.h) on the CPU: the draws' contract (one
// negative per positive pair, of another class, within the nonzero-loss
// cutoff when the anchor has any there, fixed by the generator state); the
// loss's value against the margin loss written out on the draws' triplets;
// its gradients against central differences; errors that name the op and
// the shapes. tests/dml/test_fused_margin.cpp checks both against the
// composite margin loss and the host miner.
#include "engine/distance_weighted_margin.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::expect_error;

constexpr int64_t kBatch = 12, kDim = 5;

// 4 classes of 3, and the embeddings' unit-sphere distances in f64.
struct Batch {
  Tensor embeddings, labels;
  std::vector<int64_t> y;
  std::vector<double> dist;  // [B, B]
};
Batch make_batch(uint64_t seed) {
  Generator gen(seed);
  Batch b;
  for (int64_t i = 0; i < kBatch; ++i) b.y.push_back(i % 4);
  b.labels = from_vector(b.y, {kBatch});
  b.embeddings = randn({kBatch, kDim}, DType::f64, &gen).requires_grad_();
  const std::vector<double> e = b.embeddings.to_vector<double>();
  std::vector<double> x(e.size());
  for (int64_t i = 0; i < kBatch; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < kDim; ++j) norm += e[size_t(i * kDim + j)] * e[size_t(i * kDim + j)];
    for (int64_t j = 0; j < kDim; ++j)
      x[size_t(i * kDim + j)] = e[size_t(i * kDim + j)] / std::sqrt(norm);
  }
  for (int64_t i = 0; i < kBatch; ++i)
    for (int64_t j = 0; j < kBatch; ++j) {
      double s = 0;
      for (int64_t k = 0; k < kDim; ++k) {
        const double diff = x[size_t(i * kDim + k)] - x[size_t(j * kDim + k)];
        s += diff * diff;
      }
      b.dist.push_back(std::sqrt(s));
    }
  return b;
}

DistanceWeightedMarginOptions config(bool per_class_beta = false) {
  return {.margin = 0.3, .nu = 0.1, .per_class_beta = per_class_beta};
}

std::vector<int64_t> draw(const Batch& b, uint64_t seed) {
  Generator gen(seed);
  return distance_weighted_negatives(from_vector(b.dist, {kBatch, kBatch}), b.labels, kDim,
                                     config(), gen)
      .to_vector<int64_t>();
}

TEST(DistanceWeightedNegatives, OneNegativeOfAnotherClassPerPositivePair) {
  const Batch b = make_batch(1);
  const DistanceWeightedMarginOptions c = config();
  const std::vector<int64_t> negatives = draw(b, 2);
  ASSERT_EQ(negatives.size(), size_t(kBatch * kBatch));
  for (int64_t a = 0; a < kBatch; ++a) {
    bool near_negative = false;
    for (int64_t j = 0; j < kBatch; ++j)
      near_negative |= b.y[size_t(j)] != b.y[size_t(a)] &&
                       b.dist[size_t(a * kBatch + j)] < c.nonzero_loss_cutoff;
    for (int64_t p = 0; p < kBatch; ++p) {
      const int64_t n = negatives[size_t(a * kBatch + p)];
      if (a == p || b.y[size_t(a)] != b.y[size_t(p)]) {
        EXPECT_EQ(n, -1) << "slot (" << a << ", " << p << ") is no positive pair";
        continue;
      }
      ASSERT_TRUE(n >= 0 && n < kBatch) << "slot (" << a << ", " << p << ")";
      EXPECT_NE(b.y[size_t(n)], b.y[size_t(a)]) << "slot (" << a << ", " << p << ")";
      if (near_negative) {
        EXPECT_LT(b.dist[size_t(a * kBatch + n)], c.nonzero_loss_cutoff)
            << "slot (" << a << ", " << p << ")";
      }
    }
  }
}

TEST(DistanceWeightedNegatives, TheGeneratorStateFixesTheDraws) {
  const Batch b = make_batch(1);
  EXPECT_EQ(draw(b, 3), draw(b, 3));
  EXPECT_NE(draw(b, 3), draw(b, 4));  // 24 positive pairs: equal by chance ~never
  Generator gen(3);
  distance_weighted_negatives(from_vector(b.dist, {kBatch, kBatch}), b.labels, kDim, config(), gen);
  EXPECT_EQ(gen.state().offset, uint64_t(kBatch * kBatch));
}

// The margin loss of engine/distance_weighted_margin.h on the draws' triplets:
// hinges over the active count, plus nu times the triplets' mean beta.
double margin_loss(const Batch& b, const std::vector<int64_t>& negatives,
                   const std::vector<double>& beta, const DistanceWeightedMarginOptions& c) {
  double hinges = 0, active = 0, triplets = 0, betas = 0;
  for (int64_t a = 0; a < kBatch; ++a)
    for (int64_t p = 0; p < kBatch; ++p) {
      const int64_t n = negatives[size_t(a * kBatch + p)];
      if (n < 0) continue;
      const double beta_a = beta[size_t(c.per_class_beta ? b.y[size_t(a)] : 0)];
      const double pos = std::max(b.dist[size_t(a * kBatch + p)] - beta_a + c.margin, 0.0);
      const double neg = std::max(beta_a - b.dist[size_t(a * kBatch + n)] + c.margin, 0.0);
      hinges += pos + neg;
      active += (pos > 0) + (neg > 0);
      triplets += 1;
      betas += beta_a;
    }
  return hinges / std::max(active, 1.0) + c.nu * betas / triplets;
}

TEST(FusedDistanceWeightedMarginLoss, IsTheMarginLossOnTheDrawnTriplets) {
  const Batch b = make_batch(5);
  for (const bool per_class : {false, true}) {
    const std::vector<double> beta =
        per_class ? std::vector<double>{0.9, 1.1, 1.2, 1.0} : std::vector<double>{1.0};
    Generator gen(6);
    const double got = fused_distance_weighted_margin_loss(
                           b.embeddings, b.labels, from_vector(beta, {int64_t(beta.size())}),
                           config(per_class), gen)
                           .item();
    EXPECT_EQ(gen.state().offset, uint64_t(kBatch * kBatch));
    const double want = margin_loss(b, draw(b, 6), beta, config(per_class));
    EXPECT_GT(want, 0);
    EXPECT_NEAR(got, want, 1e-12) << (per_class ? "per-class beta" : "shared beta");
  }
}

TEST(FusedDistanceWeightedMarginLoss, GradientsMatchFiniteDifferences) {
  const Batch b = make_batch(7);
  for (const bool per_class : {false, true}) {
    const Tensor beta =
        full({per_class ? int64_t{4} : int64_t{1}}, 1.0, DType::f64).requires_grad_();
    // Every evaluation draws from the same state, so the triplets stay put.
    test::expect_gradients_match(
        [&] {
          Generator gen(8);
          return fused_distance_weighted_margin_loss(b.embeddings, b.labels, beta,
                                                     config(per_class), gen);
        },
        {b.embeddings, beta}, per_class ? "per-class beta" : "shared beta",
        {.eps = 1e-6, .atol = 1e-8, .rtol = 1e-6});
  }
}

TEST(FusedDistanceWeightedMarginLoss, ErrorsNameTheOpAndTheShapes) {
  const Batch b = make_batch(9);
  const char* op = "fused_distance_weighted_margin_loss";
  const Tensor beta = full({1}, 1.0, DType::f64);
  Generator gen(1);
  auto loss = [&](const Tensor& e, const Tensor& y, const Tensor& bt) {
    fused_distance_weighted_margin_loss(e, y, bt, config(), gen);
  };
  expect_error([&] { loss(b.embeddings.reshape({60}), b.labels, beta); },
               {op, "embeddings", "f64[60]"});
  expect_error([&] { loss(b.embeddings, b.labels.slice(0, 11), beta); },
               {op, "12 rows", "i64[11]"});
  expect_error([&] { loss(b.embeddings, b.labels.to(DType::f64), beta); },
               {op, "labels", "f64[12]", "i64"});
  expect_error([&] { loss(b.embeddings, b.labels, full({2}, 1.0, DType::f64)); },
               {op, "shared beta", "f64[2]"});
  expect_error([&] { loss(b.embeddings, b.labels, beta.to(DType::f32)); }, {op, "f32[1]"});
  expect_error(
      [&] {
        loss(b.embeddings, b.labels, full({1, 1}, 1.0, DType::f64));
      },
      {op, "beta", "f64[1, 1]"});
  expect_error([&] { loss(b.embeddings.to(DType::bf16), b.labels, beta.to(DType::bf16)); },
               {op, "bf16"});
}

TEST(DistanceWeightedNegatives, ErrorsNameTheOpAndTheShapes) {
  const Batch b = make_batch(9);
  const char* op = "distance_weighted_negatives";
  const Tensor dist = from_vector(b.dist, {kBatch, kBatch});
  Generator gen(1);
  auto negatives = [&](const Tensor& d, const Tensor& y) {
    distance_weighted_negatives(d, y, kDim, config(), gen);
  };
  expect_error([&] { negatives(dist.reshape({6, 24}), b.labels); }, {op, "square", "f64[6, 24]"});
  expect_error([&] { negatives(dist.to(DType::f32), b.labels); }, {op, "distances", "f32[12, 12]"});
  expect_error([&] { negatives(dist.reshape({144}), b.labels); }, {op, "distances", "f64[144]"});
  expect_error([&] { negatives(dist, b.labels.slice(0, 5)); }, {op, "12 rows", "i64[5]"});
}

}  // namespace
}  // namespace dml
