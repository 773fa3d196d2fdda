// The fused margin loss on distance-weighted triplets (dml/losses/fused_margin.h)
// against the composite path it replaces: the host miner's triplets, then the
// margin loss's separate ops (whose values and gradients match PyTorch,
// tests/test_losses.cpp). Same generator state on both sides, so both draw
// the same triplets; values and gradients must agree to f64 rounding (f32:
// to f32 rounding). Then central differences, batches without a triplet,
// and the errors.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dml/losses/fused_margin.h"
#include "dml/losses/margin.h"
#include "dml/miners/distance_weighted.h"
#include "dml/miners/registry.h"
#include "engine/ops.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using losses::MarginLoss;
using losses::MarginParams;
using miners::DistanceWeightedMiner;
using miners::DistanceWeightedParams;

// 5 classes of 3, a class of 2 and a singleton (an anchor without positives):
// 18 embeddings in 23 dimensions (not a multiple of squared_distance's 4 lanes), not normalised.
struct Batch {
  Tensor embeddings, labels;
};
Batch make_batch(uint64_t seed, DType dtype, double scale = 1.0) {
  Generator gen(seed);
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 15; ++i) y.push_back(i / 3);
  for (int64_t c : {5, 5, 6}) y.push_back(c);
  // Values exact in f32, so a batch is the same numbers in f32 and f64.
  Tensor e = (randn({int64_t(y.size()), 23}, DType::f64, &gen) * scale).to(DType::f32).to(dtype);
  e.requires_grad_();
  return {e, from_vector(y, {int64_t(y.size())})};
}

struct Case {
  std::string name;
  MarginParams margin;
  DistanceWeightedParams miner;
  double scale = 1.0;  // of the embeddings before normalising
};
std::vector<Case> cases() {
  return {{"defaults", {}, {}},
          {"per-class beta and nu", {0.2, 1.0, 0.05, true}, {}},
          // Wide margin: every hinge active; tight cutoffs: most negatives
          // beyond the nonzero-loss cutoff, some anchors drawing uniformly.
          {"every hinge active", {1.5, 1.2, 0.0, false}, {}},
          {"tight cutoffs", {}, {0.3, 0.6}},
          {"tiny embeddings", {}, {}, 1e-7}};
}

struct Result {
  Tensor loss, grad_embeddings, grad_beta;
  GeneratorState after;
};

Result run(const Case& c, DType dtype, bool fused) {
  const Batch b = make_batch(7, dtype, c.scale);
  MarginLoss loss(c.margin, 7, dtype);
  DistanceWeightedMiner miner(c.miner);
  Generator gen(21);
  Tensor value;
  if (fused) {
    value = loss.forward_mined(b.embeddings, b.labels, miner, gen);
  } else {
    const miners::MinedTuples mined = miner.mine(b.embeddings.detach(), b.labels, gen);
    value = loss.forward(b.embeddings, b.labels, &mined);
  }
  value.backward();
  return {value, b.embeddings.grad(), loss.parameters()[0].grad(), gen.state()};
}

void expect_same_result(const Result& got, const Result& want, double tol,
                        const std::string& what) {
  expect_tensor_near(got.loss, want.loss, tol, tol, what + ": loss");
  expect_tensor_near(got.grad_embeddings, want.grad_embeddings, tol, tol,
                     what + ": embeddings' gradient");
  expect_tensor_near(got.grad_beta, want.grad_beta, tol, tol, what + ": beta's gradient");
  EXPECT_EQ(got.after.offset, want.after.offset) << what << ": draws reserved";
}

TEST(FusedMargin, MatchesTheMinerAndTheCompositeLossInF64) {
  for (const Case& c : cases()) {
    const Result composite = run(c, DType::f64, false);
    EXPECT_GT(composite.loss.item(), 0) << c.name;
    expect_same_result(run(c, DType::f64, true), composite, 1e-12, c.name);
  }
}

// In f32 the fused loss computes in f64 and rounds once, so it matches the
// f64 composite on the same values to f32 rounding (the f32 composite is
// ~100x further off: its distances come from ||x||^2 + ||y||^2 - 2 x.y).
TEST(FusedMargin, F32RoundsTheF64ResultOnce) {
  for (const Case& c : cases()) {
    const Result fused = run(c, DType::f32, true);
    EXPECT_EQ(fused.loss.dtype(), DType::f32);
    EXPECT_EQ(fused.grad_embeddings.dtype(), DType::f32);
    expect_same_result(fused, run(c, DType::f64, false), 2e-7, c.name);
  }
}

TEST(FusedMargin, GradientsMatchFiniteDifferences) {
  for (const Case& c : cases()) {
    if (c.scale != 1.0) continue;  // tiny rows: steps of 1e-6 would swamp them
    SCOPED_TRACE(c.name);
    const Batch b = make_batch(9, DType::f64);
    MarginLoss loss(c.margin, 7, DType::f64);
    DistanceWeightedMiner miner(c.miner);
    // Every evaluation draws from the same state, so the triplets stay put
    // while the differences move the embeddings by 1e-6.
    expect_gradients_match(
        [&] {
          Generator gen(5);
          return loss.forward_mined(b.embeddings, b.labels, miner, gen);
        },
        {b.embeddings, loss.parameters()[0]}, c.name, {.eps = 1e-6, .atol = 1e-8, .rtol = 1e-6});
  }
}

// One counter per slot: 18 x 18 per batch, whatever the labels.
TEST(FusedMargin, DrawsFromCountersFixedByThePair) {
  const Batch b = make_batch(7, DType::f64);
  MarginLoss loss;
  DistanceWeightedMiner miner;
  Generator gen(3);
  loss.forward_mined(b.embeddings.to(DType::f32), b.labels, miner, gen);
  EXPECT_EQ(gen.state().offset, uint64_t(18 * 18));
  // A different stream gives (almost surely) other triplets, so another loss.
  Generator other(4);
  const double a = loss.forward_mined(b.embeddings.to(DType::f32), b.labels, miner, gen).item();
  const double c = loss.forward_mined(b.embeddings.to(DType::f32), b.labels, miner, other).item();
  EXPECT_NE(a, c);
}

TEST(FusedMargin, NoTripletGivesAZeroThatBackpropagates) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> layouts = {
      {"one class", {0, 0, 0, 0}}, {"all classes distinct", {0, 1, 2, 3}}};
  for (const auto& [what, y] : layouts) {
    Tensor e = randn({4, 8}, DType::f64);
    e.requires_grad_();
    MarginLoss loss({0.2, 1.2, 0.1, false}, 0, DType::f64);
    DistanceWeightedMiner miner;
    Generator gen(1);
    Tensor value = loss.forward_mined(e, from_vector(y, {4}), miner, gen);
    EXPECT_EQ(value.item(), 0.0) << what;
    value.backward();
    for (double g : e.grad().to_vector<double>()) EXPECT_EQ(g, 0.0) << what;
    for (double g : loss.parameters()[0].grad().to_vector<double>()) EXPECT_EQ(g, 0.0) << what;
  }
}

// Another miner leaves the margin loss on its composite path.
TEST(FusedMargin, OtherMinersKeepTheCompositePath) {
  const Batch b = make_batch(7, DType::f64);
  MarginLoss loss({}, 0, DType::f64);
  auto miner = miners::make_miner("semi_hard");
  Generator gen(2);
  const miners::MinedTuples mined = miner->mine(b.embeddings.detach(), b.labels, gen);
  const double want = loss.forward(b.embeddings, b.labels, &mined).item();
  EXPECT_EQ(loss.forward_mined(b.embeddings, b.labels, *miner, gen).item(), want);
}

TEST(FusedMargin, BadInputsNameTheOp) {
  const Batch b = make_batch(7, DType::f64);
  Generator gen(1);
  const char* op = "distance_weighted_margin_loss";
  DistanceWeightedMarginOptions shared;
  expect_error(
      [&] {
        losses::distance_weighted_margin_loss(b.embeddings, b.labels, full({2}, 1.2, DType::f64),
                                              shared, gen);
      },
      {op, "[1]"});
  expect_error(
      [&] {
        losses::distance_weighted_margin_loss(b.embeddings, b.labels, full({1}, 1.2), shared, gen);
      },
      {op});
  DistanceWeightedMarginOptions per_class;
  per_class.per_class_beta = true;
  expect_error(
      [&] {
        losses::distance_weighted_margin_loss(b.embeddings, b.labels, full({5}, 1.2, DType::f64),
                                              per_class, gen);
      },
      {op, "label 5", "outside"});
  expect_error(
      [&] {
        losses::distance_weighted_margin_loss(b.embeddings.to(DType::bf16), b.labels,
                                              full({1}, 1.2, DType::bf16), shared, gen);
      },
      {op, "bf16"});
}

}  // namespace
}  // namespace dml::test
