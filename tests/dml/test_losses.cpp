// Pair- and triplet-based losses: values and gradients against the PyTorch
// reference (tests/golden/make_loss_golden.py, written from the papers'
// formulas), finite-difference gradient checks in f64, the edge batches
// (one class, all singletons, one sample, no mined tuple); and the registry
// with every loss, the proxy losses (tests/test_proxy_losses.cpp) included.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "dml/losses/margin.h"
#include "dml/losses/registry.h"
#include "dml/miners/tuples.h"
#include "engine/ops.h"
#include "tests/support/completeness.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/loss_fixture.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using losses::Loss;
using losses::LossParams;
using nlohmann::json;

const json& fixture() {
  return loss_fixture();
}
using Batch = FixtureBatch;

// A fresh f64 leaf copy of a fixture batch.
Batch batch(const std::string& name) {
  FixtureBatch b = fixture_batch(name);
  return {b.embeddings.clone().detach().requires_grad_(), b.labels};
}

// Through the registry, except the margin loss, whose beta must be f64 here
// (the registry makes f32 parameters, as training uses).
std::unique_ptr<Loss> make_f64_loss(const std::string& name, const LossParams& given,
                                    int64_t num_classes) {
  if (name != losses::MarginLoss::kName) return losses::make_loss(name, {num_classes, 0}, given);
  LossParams p = resolve_params("loss", name, losses::loss_entry(name).params, given);
  return std::make_unique<losses::MarginLoss>(
      losses::MarginParams{p.at("margin"), p.at("beta"), p.at("nu"), p.at("per_class_beta") != 0},
      num_classes, DType::f64);
}

// The registry's pair- and triplet-based losses: the ones this file's
// fixture covers (the proxy losses have tests/test_proxy_losses.cpp).
std::vector<std::string> tuple_loss_names() {
  std::vector<std::string> names;
  for (const losses::LossEntry& e : losses::loss_table())
    if (e.kind == losses::LossKind::tuple) names.push_back(e.name);
  return names;
}

// Mined tuples as the fixture lists them; null for "every tuple".
std::unique_ptr<miners::MinedTuples> mined_of(const json& j) {
  if (j.is_null()) return nullptr;
  if (j.at("kind") == "pairs") {
    miners::Pairs p;
    for (const auto& t : j.at("pos")) p.pos.add(t[0], t[1]);
    for (const auto& t : j.at("neg")) p.neg.add(t[0], t[1]);
    return std::make_unique<miners::MinedTuples>(miners::mined_pairs(p));
  }
  miners::Triplets t;
  for (const auto& v : j.at("triplets")) t.add(v[0], v[1], v[2]);
  return std::make_unique<miners::MinedTuples>(miners::mined_triplets(t));
}

// The reference tuples of a deterministic miner (default parameters) on a batch.
const json& miner_tuples(const std::string& miner, const std::string& batch_name) {
  for (const json& m : fixture().at("miners"))
    if (m.at("miner") == miner && m.at("batch") == batch_name && m.at("params").empty())
      return m.at("tuples");
  throw Error("no reference tuples of " + miner + " on " + batch_name);
}

std::string case_name(const json& c) {
  std::string name = c.at("loss").get<std::string>() + " on " + c.at("batch").get<std::string>();
  if (!c.at("params").empty()) name += " with " + c.at("params").dump();
  if (!c.at("mined").is_null()) name += " mined " + c.at("mined").at("kind").get<std::string>();
  return name;
}

TEST(LossParity, ValuesAndGradientsMatchTheReference) {
  const json& cases = fixture().at("losses");
  ASSERT_GE(cases.size(), 100u);
  std::set<std::string> covered;
  for (const json& c : cases) {
    const std::string what = case_name(c);
    SCOPED_TRACE(what);
    Batch b = batch(c.at("batch"));
    auto loss = make_f64_loss(c.at("loss"), params_of(c.at("params")), c.at("num_classes"));
    auto mined = mined_of(c.at("mined"));
    Tensor value = loss->forward(b.embeddings, b.labels, mined.get());
    ASSERT_EQ(value.numel(), 1) << what;
    const double want = c.at("value");
    EXPECT_NEAR(value.item(), want, 1e-10 + 1e-10 * std::abs(want)) << what;
    value.backward();
    expect_tensor_near(b.embeddings.grad(), decode(c.at("grad")), 1e-9, 1e-9,
                       what + " d/d embeddings");
    if (c.contains("param_grads"))
      for (const auto& [name, grad] : c.at("param_grads").items()) {
        const auto& params = loss->named_parameters();
        auto it = std::find_if(params.begin(), params.end(),
                               [&](const auto& p) { return p.first == name; });
        ASSERT_NE(it, params.end()) << what << ": no parameter " << name;
        expect_tensor_near(it->second.grad(), decode(grad), 1e-9, 1e-9, what + " d/d " + name);
      }
    covered.insert(c.at("loss").get<std::string>());
  }
  for (const std::string& name : tuple_loss_names())
    EXPECT_TRUE(covered.count(name)) << name << " has no reference case";
}

// Every loss, with every tuple and with the fixture's mined tuples, against
// central differences (embeddings and the margin loss's beta). Not the circle
// loss: its pair weights are constants of the step (detached, as in the
// authors' code), so its gradient is by design not the derivative of its
// value; the parity test checks it against PyTorch with the same detachment.
TEST(LossGradCheck, EveryLossMatchesFiniteDifferences) {
  for (const std::string batch_name : {"mixed", "raw"})
    for (const json& mined_json : {json(), miner_tuples("multi_similarity", batch_name),
                                   miner_tuples("batch_hard", batch_name)})
      for (const std::string& name : tuple_loss_names()) {
        if (name == "circle") continue;
        const std::string what =
            name + " on " + batch_name +
            (mined_json.is_null() ? "" : " mined " + mined_json.at("kind").get<std::string>());
        Batch b = batch(batch_name);
        auto loss = make_f64_loss(name, {}, 0);
        auto mined = mined_of(mined_json);
        std::vector<Tensor> leaves = {b.embeddings};
        for (const Tensor& p : loss->parameters()) leaves.push_back(p);
        for (const Tensor& p : leaves) p.zero_grad();
        expect_gradients_match([&] { return loss->forward(b.embeddings, b.labels, mined.get()); },
                               leaves, what);
      }
}

TEST(LossGradCheck, PerClassMarginBetaGetsItsClassesGradient) {
  Batch b = batch("mixed");
  losses::MarginLoss loss({0.2, 1.0, 0.01, true}, 7, DType::f64);
  expect_gradients_match([&] { return loss.forward(b.embeddings, b.labels); },
                         {b.embeddings, loss.parameters()[0]}, "margin per-class beta");
  // Classes 5 and 6 are not in the batch: their betas get no gradient.
  std::vector<double> g = loss.parameters()[0].grad().to_vector<double>();
  EXPECT_EQ(g[5], 0.0);
  EXPECT_EQ(g[6], 0.0);
  EXPECT_NE(g[0], 0.0);
}

// Batches without a valid tuple give exactly 0, a graph that backward() can
// run through, and zero (not NaN) gradients.
void expect_zero_loss(Loss& loss, const Tensor& embeddings, const Tensor& labels,
                      const miners::MinedTuples* mined, const std::string& what) {
  embeddings.zero_grad();
  Tensor value = loss.forward(embeddings, labels, mined);
  EXPECT_EQ(value.item(), 0.0) << what;
  ASSERT_TRUE(value.requires_grad()) << what << ": not connected to the graph";
  value.backward();
  ASSERT_TRUE(embeddings.grad().defined()) << what;
  for (double g : embeddings.grad().to_vector<double>()) EXPECT_EQ(g, 0.0) << what;
  for (const Tensor& p : loss.parameters()) {
    ASSERT_TRUE(p.grad().defined()) << what << ": parameter without gradient";
    for (double g : p.grad().to(DType::f64).to_vector<double>()) EXPECT_EQ(g, 0.0) << what;
  }
}

TEST(LossEdges, NoTupleGivesAZeroThatBackpropagates) {
  miners::MinedTuples no_pairs = miners::mined_pairs({});
  miners::MinedTuples no_triplets = miners::mined_triplets({});
  for (const std::string& name : tuple_loss_names()) {
    auto loss = make_f64_loss(name, {}, 0);
    Batch one = batch("one_sample");
    expect_zero_loss(*loss, one.embeddings, one.labels, nullptr, name + " on one sample");
    Batch mixed = batch("mixed");
    expect_zero_loss(*loss, mixed.embeddings, mixed.labels, &no_pairs, name + " no mined pair");
    expect_zero_loss(*loss, mixed.embeddings, mixed.labels, &no_triplets,
                     name + " no mined triplet");
  }
}

// A single class and all-singleton batches: finite everywhere; the losses
// that need both a positive and a negative give 0 (the fixture has values).
TEST(LossEdges, OneClassAndSingletonBatchesStayFinite) {
  for (const std::string batch_name : {"single_class", "singletons"})
    for (const std::string& name : tuple_loss_names()) {
      Batch b = batch(batch_name);
      auto loss = make_f64_loss(name, {}, 0);
      Tensor value = loss->forward(b.embeddings, b.labels);
      EXPECT_TRUE(std::isfinite(value.item())) << name << " on " << batch_name;
      value.backward();
      for (double g : b.embeddings.grad().to_vector<double>())
        EXPECT_TRUE(std::isfinite(g)) << name << " on " << batch_name;
    }
}

// Training runs in f32: every loss gives the f64 reference value to f32
// precision, and its beta (an f32 parameter from the registry) gets a gradient.
TEST(LossDtypes, F32MatchesTheF64Reference) {
  for (const json& c : fixture().at("losses")) {
    if (c.at("batch") != "mixed" || !c.at("params").empty() || !c.at("mined").is_null()) continue;
    Batch b = batch("mixed");
    Tensor e = b.embeddings.detach().to(DType::f32).requires_grad_();
    auto loss = losses::make_loss(c.at("loss"), {}, {});
    Tensor value = loss->forward(e, b.labels);
    EXPECT_EQ(value.dtype(), DType::f32);
    const double want = c.at("value");
    EXPECT_NEAR(value.item(), want, 1e-5 * std::max(1.0, std::abs(want))) << case_name(c);
    value.backward();
    EXPECT_TRUE(e.grad().defined());
    for (const Tensor& p : loss->parameters()) EXPECT_TRUE(p.grad().defined()) << case_name(c);
  }
}

TEST(LossInputs, MinedTuplesThatContradictTheLabelsAreRejected) {
  Batch b = batch("pairs");  // labels 0 0 1 1 2 2 3 3
  auto loss = losses::make_loss("contrastive", {});
  miners::Pairs wrong_positive;
  wrong_positive.pos.add(0, 2);
  miners::MinedTuples m = miners::mined_pairs(wrong_positive);
  expect_error([&] { loss->forward(b.embeddings, b.labels, &m); },
               {"contrastive", "positive pair 0", "(0, 2)"});
  miners::Triplets wrong_negative;
  wrong_negative.add(0, 1, 1);
  m = miners::mined_triplets(wrong_negative);
  expect_error([&] { losses::make_loss("triplet", {})->forward(b.embeddings, b.labels, &m); },
               {"triplet", "negative pair 0"});
  miners::Pairs outside;
  outside.neg.add(0, 8);
  m = miners::mined_pairs(outside);
  expect_error([&] { loss->forward(b.embeddings, b.labels, &m); }, {"'negative'", "8", "outside"});
  m = miners::mined_pairs({});
  m.negative = Tensor();
  expect_error([&] { loss->forward(b.embeddings, b.labels, &m); }, {"lack", "negative"});
}

TEST(LossInputs, BadBatchesNameTheLoss) {
  auto loss = losses::make_loss("triplet", {});
  expect_error([&] { loss->forward(zeros({4}), zeros({4}, DType::i64)); },
               {"triplet", "[batch, dim]"});
  expect_error(
      [&] {
        loss->forward(zeros({4, 3}), zeros({3}, DType::i64));
      },
      {"triplet", "labels", "i64 [4]"});
  losses::MarginLoss per_class({0.2, 1.2, 0, true}, 3);
  expect_error(
      [&] {
        per_class.forward(ones({2, 3}), from_vector<int64_t>({0, 5}, {2}));
      },
      {"margin", "label 5", "[0, 3)"});
}

TEST(LossRegistry, ListsEveryLossByName) {
  // Sorted by name, whatever order the losses' files register in.
  const std::vector<std::string> want = {
      "angular",   "arcface",          "circle",    "contrastive",      "cosface",
      "histogram", "lifted_structure", "margin",    "multi_similarity", "normalized_softmax",
      "npair",     "proxy_anchor",     "proxy_nca", "snr_contrastive",  "softtriple",
      "triplet"};
  EXPECT_EQ(losses::loss_names(), want);
  EXPECT_EQ(tuple_loss_names().size(), 10u);
  Generator gen(1);
  for (const losses::LossEntry& e : losses::loss_table()) {
    EXPECT_FALSE(e.summary.empty()) << e.name;
    for (const ParamSpec& s : e.params) {
      EXPECT_FALSE(s.doc.empty()) << e.name << "." << s.name;
      EXPECT_TRUE(s.allows(s.default_value)) << e.name << "." << s.name;
    }
    auto loss = losses::make_loss(e.name, {5, 4, &gen});
    EXPECT_EQ(loss->describe().rfind(e.name + "(", 0), 0u) << loss->describe();
  }
}

// The losses with PyTorch reference cases: this file's fixture (tuple
// losses) and test_proxy_losses's (proxy losses), by case name.
std::vector<std::string> losses_with_reference_cases() {
  std::vector<std::string> names;
  for (const json& c : fixture().at("losses")) names.push_back(c.at("loss"));
  const json proxy = load_fixture("proxy_losses.json");
  for (const json& c : proxy.at("losses")) names.push_back(c.at("name"));
  return names;
}

// The losses the README's "Losses and miners" names.
std::vector<std::string> readme_losses(const std::string& readme) {
  return code_spans_between(readme, "`loss.name` (", "`loss.miner` (");
}

TEST(LossRegistry, EveryLossHasReferenceCasesAndAReadmeEntry) {
  const std::vector<std::string> names = losses::loss_names();
  EXPECT_EQ(uncovered(names, losses_with_reference_cases()), std::vector<std::string>{});
  EXPECT_EQ(uncovered(names, readme_losses(read_text(DML_SOURCE_DIR "/README.md"))),
            std::vector<std::string>{});
}

// The check above fails for a loss registered without cases or README entry.
TEST(LossRegistry, TheCompletenessCheckFailsOnAMissingCaseOrEntry) {
  std::vector<std::string> names = losses::loss_names();
  names.push_back("focal");
  EXPECT_EQ(uncovered(names, losses_with_reference_cases()), std::vector<std::string>{"focal"});
  std::string readme = read_text(DML_SOURCE_DIR "/README.md");
  readme.replace(readme.find("`histogram`"), 11, "histogram");
  EXPECT_EQ(uncovered(losses::loss_names(), readme_losses(readme)),
            std::vector<std::string>{"histogram"});
}

// Every registered loss builds from its defaults with what a training run
// gives it (classes, embedding size, generator), and its value and gradients
// on a random f32 batch are finite.
TEST(LossRegistry, EveryLossTrainsFromItsDefaults) {
  Generator gen(7);
  const losses::LossContext ctx{.num_classes = 5, .embedding_dim = 8, .gen = &gen};
  for (const std::string& name : losses::loss_names()) {
    auto loss = losses::make_loss(name, ctx);
    Tensor x = randn({12, 8}, DType::f32, &gen).requires_grad_();
    Tensor labels = randint(0, 5, {12}, DType::i64, &gen);
    Tensor value = loss->forward(x, labels);
    ASSERT_EQ(value.numel(), 1) << name;
    EXPECT_TRUE(std::isfinite(value.item())) << name << " = " << value.item();
    value.backward();
    std::vector<Tensor> leaves = {x};
    for (const Tensor& p : loss->parameters()) leaves.push_back(p);
    for (const Tensor& leaf : leaves) {
      ASSERT_TRUE(leaf.grad().defined()) << name;
      for (float g : leaf.grad().to_vector<float>()) EXPECT_TRUE(std::isfinite(g)) << name;
    }
  }
}

TEST(LossRegistry, DefaultsAreThePapers) {
  auto defaults = [](const std::string& name) {
    return resolve_params("loss", name, losses::loss_entry(name).params, {});
  };
  EXPECT_EQ(defaults("contrastive"), (LossParams{{"pos_margin", 0}, {"neg_margin", 0.5}}));
  EXPECT_EQ(defaults("triplet"), (LossParams{{"margin", 0.2}}));
  EXPECT_EQ(defaults("margin"),
            (LossParams{{"margin", 0.2}, {"beta", 1.2}, {"nu", 0}, {"per_class_beta", 0}}));
  EXPECT_EQ(defaults("multi_similarity"), (LossParams{{"alpha", 2}, {"beta", 50}, {"base", 0.5}}));
  EXPECT_EQ(defaults("lifted_structure"), (LossParams{{"margin", 1}}));
  EXPECT_EQ(defaults("npair"), (LossParams{{"l2_reg", 0.005}}));
  EXPECT_EQ(defaults("angular"),
            (LossParams{{"alpha", 45}, {"angular_weight", 2}, {"l2_reg", 0.005}}));
  EXPECT_EQ(defaults("circle"), (LossParams{{"m", 0.25}, {"gamma", 256}}));
  EXPECT_EQ(defaults("snr_contrastive"),
            (LossParams{{"pos_margin", 0}, {"neg_margin", 1}, {"zero_mean_reg", 0.005}}));
  EXPECT_EQ(defaults("histogram"), (LossParams{{"num_bins", 100}}));
}

TEST(LossRegistry, MarginBetaIsALearnableParameter) {
  auto loss = losses::make_loss("margin", {});
  ASSERT_EQ(loss->named_parameters().size(), 1u);
  EXPECT_EQ(loss->named_parameters()[0].first, "beta");
  EXPECT_EQ(loss->named_parameters()[0].second.shape(), Shape({1}));
  EXPECT_DOUBLE_EQ(loss->named_parameters()[0].second.item(), double(1.2f));
  EXPECT_EQ(loss->default_lr_multiplier(), 50);
  auto per_class = losses::make_loss("margin", {10, 4}, {{"per_class_beta", 1}});
  EXPECT_EQ(per_class->parameters()[0].shape(), Shape({10}));
  EXPECT_EQ(losses::make_loss("triplet", {})->parameters().size(), 0u);
}

TEST(LossRegistry, ErrorsNameTheLossTheParameterAndTheAllowedKeys) {
  expect_error([] { losses::make_loss("tripletz", {}); },
               {"unknown loss 'tripletz'", "known names:", "triplet", "histogram"});
  expect_error(
      [] {
        losses::make_loss("triplet", {}, {{"marginn", 0.1}});
      },
      {"loss 'triplet'", "'marginn'", "allowed: margin"});
  expect_error(
      [] {
        losses::make_loss("triplet", {}, {{"margin", -0.1}});
      },
      {"loss 'triplet'", "'margin' = -0.1", "[0, inf)", "allowed: margin"});
  expect_error(
      [] {
        losses::make_loss("multi_similarity", {}, {{"alpha", 0}});
      },
      {"'alpha'", "(0, inf)", "allowed: alpha, beta, base"});
  expect_error(
      [] {
        losses::make_loss("histogram", {}, {{"num_bins", 10.5}});
      },
      {"'num_bins' = 10.5", "whole"});
  expect_error(
      [] {
        losses::make_loss("margin", {}, {{"per_class_beta", 2}});
      },
      {"'per_class_beta'", "{0, 1}"});
  expect_error(
      [] {
        losses::make_loss("angular", {}, {{"alpha", 90}});
      },
      {"'alpha' = 90", "(0, 90)"});
  expect_error(
      [] {
        losses::make_loss("margin", {}, {{"per_class_beta", 1}});
      },
      {"margin", "per_class_beta", "num_classes"});
}

}  // namespace
}  // namespace dml::test
