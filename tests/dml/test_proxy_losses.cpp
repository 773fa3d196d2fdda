// The proxy and classification losses: values and gradients against
// PyTorch references written from the papers (tests/golden/
// make_proxy_loss_golden.py), finite-difference gradients, and the checks on
// labels, shapes, contexts and config parameters, built through the loss
// registry as a training run builds them.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dml/losses/arcface.h"
#include "dml/losses/cosface.h"
#include "dml/losses/normalized_softmax.h"
#include "dml/losses/proxy_anchor.h"
#include "dml/losses/proxy_nca.h"
#include "dml/losses/registry.h"
#include "dml/losses/softtriple.h"
#include "engine/ops.h"
#include "tests/support/fixture.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

using losses::Loss;
using losses::LossContext;
using losses::make_loss;

// Each fixture entry by name, built around given rows (f64 in the parity and
// gradient tests) with the entry's parameters.
std::unique_ptr<Loss> loss_from_rows(const std::string& name, const Tensor& rows) {
  using namespace losses;
  if (name == "proxy_nca") return std::make_unique<ProxyNcaLoss>(rows);
  if (name == "proxy_anchor") return std::make_unique<ProxyAnchorLoss>(rows);
  if (name == "normalized_softmax") return std::make_unique<NormalizedSoftmaxLoss>(rows);
  if (name == "arcface") return std::make_unique<ArcFaceLoss>(rows);
  if (name == "arcface_easy_margin") {
    ArcFaceParams p;
    p.easy_margin = true;
    return std::make_unique<ArcFaceLoss>(rows, p);
  }
  if (name == "cosface") return std::make_unique<CosFaceLoss>(rows);
  if (name == "softtriple") return std::make_unique<SoftTripleLoss>(rows);
  throw Error("test_proxy_losses: fixture loss '" + name + "' has no constructor here");
}

// The registry's proxy losses, with what each must own and its learning-rate
// multiplier.
struct ProxyCase {
  std::string name;
  std::string parameter;
  int64_t rows_per_class;
  double lr_multiplier;
};

const std::vector<ProxyCase>& proxy_cases() {
  static const std::vector<ProxyCase> cases = {
      {"proxy_nca", "proxies", 1, 50},
      {"proxy_anchor", "proxies", 1, 100},
      {"normalized_softmax", "weights", 1, 1},
      {"arcface", "weights", 1, 1},
      {"cosface", "weights", 1, 1},
      {"softtriple", "centers", 10, 100},
  };
  return cases;
}

const nlohmann::json& golden() {
  static const nlohmann::json j = load_fixture("proxy_losses.json");
  return j;
}

void expect_close(const Tensor& got, const nlohmann::json& want, const std::string& what) {
  expect_tensor_near(got, decode(want), 1e-11, 1e-11, what);
}

TEST(ProxyLossParity, ValuesAndGradientsMatchPyTorch) {
  const nlohmann::json& j = golden();
  ASSERT_EQ(j.at("losses").size(), 7u);
  for (const auto& entry : j.at("losses")) {
    const std::string name = entry.at("name");
    Tensor init = decode(entry.at("init"));
    for (const auto& [batch_name, batch] : j.at("batches").items()) {
      const std::string what = name + " on batch " + batch_name;
      std::unique_ptr<Loss> loss = loss_from_rows(name, init);
      ASSERT_EQ(loss->named_parameters().size(), 1u);
      EXPECT_EQ(loss->named_parameters()[0].first, entry.at("parameter").get<std::string>());
      Tensor x = decode(batch.at("embeddings")).requires_grad_();
      Tensor labels = decode(batch.at("labels"));
      Tensor value = loss->forward(x, labels);
      const auto& want = entry.at("results").at(batch_name);
      const double ref = want.at("loss");
      EXPECT_NEAR(value.item(), ref, 1e-11 * (1 + std::abs(ref))) << what;
      value.backward();
      expect_close(x.grad(), want.at("grad_embeddings"), what + ": d/d embeddings");
      expect_close(loss->parameters()[0].grad(), want.at("grad_parameter"),
                   what + ": d/d " + name + " parameter");
    }
  }
}

// Every loss, differentiated by finite differences in f64 on the fixture's
// mixed batch, in both the embeddings and its own parameter.
TEST(ProxyLossGradCheck, EmbeddingsAndParameters) {
  const nlohmann::json& j = golden();
  const auto& batch = j.at("batches").at("mixed");
  for (const auto& entry : j.at("losses")) {
    const std::string name = entry.at("name");
    std::unique_ptr<Loss> loss = loss_from_rows(name, decode(entry.at("init")));
    Tensor x = decode(batch.at("embeddings")).requires_grad_();
    Tensor labels = decode(batch.at("labels"));
    // Losses reach O(100) with logit scales of 64, so a 1e-5 step keeps the
    // rounding error of the differences small (measured agreement: 1e-9).
    GradCheckTolerance tol{1e-5, 1e-8, 1e-7};
    expect_gradients_match([&] { return loss->forward(x, labels); }, {x, loss->parameters()[0]},
                           name, tol);
  }
}

// The gradient check above is only worth something if it can fail: a
// gradient off by a factor of two must be caught.
TEST(ProxyLossGradCheck, DetectsAWrongGradient) {
  Tensor x = full({1}, 0.7, DType::f64).requires_grad_();
  EXPECT_NONFATAL_FAILURE(
      expect_gradients_match([&] { return sum(x * x.detach() * 3.0); }, {x}, "wrong"), "element");
}

TEST(ProxyLossRegistry, ListsTheProxyLossesAsProxyKind) {
  std::vector<std::string> registered;
  for (const losses::LossEntry& e : losses::loss_table())
    if (e.kind == losses::LossKind::proxy) registered.push_back(e.name);
  std::vector<std::string> want;
  for (const ProxyCase& c : proxy_cases()) want.push_back(c.name);
  std::sort(want.begin(), want.end());  // the registry's order
  EXPECT_EQ(registered, want);
}

TEST(ProxyLossRegistry, DefaultsParametersAndLrMultipliers) {
  for (const ProxyCase& c : proxy_cases()) {
    Generator gen(5);
    std::unique_ptr<Loss> loss = make_loss(c.name, {7, 12, &gen});
    ASSERT_EQ(loss->named_parameters().size(), 1u) << c.name;
    const auto& [pname, p] = loss->named_parameters()[0];
    EXPECT_EQ(pname, c.parameter) << c.name;
    EXPECT_EQ(p.shape(), (Shape{7 * c.rows_per_class, 12})) << c.name;
    EXPECT_EQ(p.dtype(), DType::f32) << c.name;
    EXPECT_TRUE(p.requires_grad() && p.is_leaf()) << c.name;
    EXPECT_EQ(loss->default_lr_multiplier(), c.lr_multiplier) << c.name;
    EXPECT_NE(loss->describe().find(c.name), std::string::npos) << loss->describe();
    // Seeded: the same generator state draws the same parameter.
    Generator again(5);
    std::unique_ptr<Loss> twin = make_loss(c.name, {7, 12, &again});
    EXPECT_EQ(p.to_vector<float>(), twin->parameters()[0].to_vector<float>()) << c.name;
  }
}

TEST(ProxyLossRegistry, PaperDefaults) {
  Generator gen(1);
  LossContext ctx{5, 8, &gen};
  auto describe = [&](const std::string& name) { return make_loss(name, ctx)->describe(); };
  EXPECT_EQ(describe("proxy_nca"), "proxy_nca(classes=5, scale=3)");
  EXPECT_EQ(describe("proxy_anchor"), "proxy_anchor(alpha=32, classes=5, delta=0.1)");
  EXPECT_EQ(describe("normalized_softmax"), "normalized_softmax(classes=5, temperature=0.05)");
  EXPECT_EQ(describe("arcface"), "arcface(classes=5, easy_margin=0, margin=0.5, scale=64)");
  EXPECT_EQ(describe("cosface"), "cosface(classes=5, margin=0.35, scale=64)");
  EXPECT_EQ(describe("softtriple"),
            "softtriple(centers_per_class=10, classes=5, gamma=0.1, la=20, margin=0.01, tau=0.2)");
}

TEST(ProxyLossRegistry, ParametersReachTheLoss) {
  Generator gen(1);
  LossContext ctx{5, 8, &gen};
  EXPECT_EQ(
      make_loss("softtriple", ctx,
                {{"centers_per_class", 3}, {"la", 7}, {"gamma", 0.5}, {"tau", 0}, {"margin", 0.2}})
          ->describe(),
      "softtriple(centers_per_class=3, classes=5, gamma=0.5, la=7, margin=0.2, tau=0)");
  EXPECT_EQ(
      make_loss("arcface", ctx, {{"scale", 30}, {"margin", 0.3}, {"easy_margin", 1}})->describe(),
      "arcface(classes=5, easy_margin=1, margin=0.3, scale=30)");
  EXPECT_EQ(make_loss("proxy_anchor", ctx, {{"alpha", 16}, {"delta", 0}})->describe(),
            "proxy_anchor(alpha=16, classes=5, delta=0)");
  EXPECT_EQ(make_loss("proxy_nca", ctx, {{"scale", 1}})->describe(),
            "proxy_nca(classes=5, scale=1)");
  EXPECT_EQ(make_loss("normalized_softmax", ctx, {{"temperature", 1}})->describe(),
            "normalized_softmax(classes=5, temperature=1)");
  EXPECT_EQ(make_loss("cosface", ctx, {{"scale", 10}, {"margin", 0}})->describe(),
            "cosface(classes=5, margin=0, scale=10)");
}

// Two losses that must agree when their parameters say so: CosFace without a
// margin is normalized softmax at temperature 1 / scale, and ArcFace without
// a margin is the same.
TEST(ProxyLossValues, MarginFreeLossesAreNormalizedSoftmax) {
  Generator gx(3);
  Tensor x = randn({6, 4}, DType::f64, &gx);
  Tensor labels = from_vector<int64_t>({0, 2, 1, 2, 0, 1}, {6});
  Tensor w = randn({3, 4}, DType::f64, &gx);
  const double softmax = losses::NormalizedSoftmaxLoss(w, {0.1}).forward(x, labels).item();
  EXPECT_NEAR(losses::CosFaceLoss(w, {10, 0}).forward(x, labels).item(), softmax, 1e-12);
  EXPECT_NEAR(losses::ArcFaceLoss(w, {10, 0, false}).forward(x, labels).item(), softmax, 1e-12);
  EXPECT_GT(losses::CosFaceLoss(w, {10, 0.35}).forward(x, labels).item(), softmax + 0.1);
}

TEST(ProxyLossRegistry, UnknownKeyNamesTheLossTheKeyAndTheAllowedKeys) {
  Generator gen(1);
  LossContext ctx{5, 8, &gen};
  const std::map<std::string, std::string> allowed = {
      {"proxy_nca", "scale"},
      {"proxy_anchor", "alpha, delta"},
      {"normalized_softmax", "temperature"},
      {"arcface", "scale, margin, easy_margin"},
      {"cosface", "scale, margin"},
      {"softtriple", "centers_per_class, la, gamma, tau, margin"},
  };
  for (const ProxyCase& c : proxy_cases())
    expect_error(
        [&] {
          make_loss(c.name, ctx, {{"margn", 0.1}});
        },
        {"loss '" + c.name + "'", "'margn'", "allowed: " + allowed.at(c.name)});
}

TEST(ProxyLossRegistry, OutOfRangeValuesAreRejected) {
  Generator gen(1);
  LossContext ctx{5, 8, &gen};
  struct Bad {
    std::string loss;
    std::string key;
    double value;
    std::string range;
  };
  const std::vector<Bad> cases = {
      {"proxy_nca", "scale", 0, "(0, inf)"},
      {"proxy_anchor", "alpha", -1, "(0, inf)"},
      {"proxy_anchor", "delta", 1.5, "[0, 1]"},
      {"normalized_softmax", "temperature", 0, "(0, inf)"},
      {"normalized_softmax", "temperature", std::nan(""), "(0, inf)"},
      {"arcface", "scale", -64, "(0, inf)"},
      {"arcface", "margin", 2, "[0, 1.5708]"},
      {"arcface", "easy_margin", 0.5, "{0, 1}"},
      {"cosface", "margin", -0.1, "[0, 1]"},
      {"softtriple", "centers_per_class", 0, "[1, 1000] whole"},
      {"softtriple", "centers_per_class", 2.5, "[1, 1000] whole"},
      {"softtriple", "gamma", 0, "(0, inf)"},
      {"softtriple", "tau", -0.2, "[0, inf)"},
  };
  for (const Bad& b : cases)
    expect_error(
        [&] {
          make_loss(b.loss, ctx, {{b.key, b.value}});
        },
        {"loss '" + b.loss + "'", "parameter '" + b.key + "'", "is outside " + b.range});
}

TEST(ProxyLossRegistry, ContextMustSizeTheParameters) {
  Generator gen(1);
  for (const ProxyCase& c : proxy_cases()) {
    expect_error([&] { make_loss(c.name, {0, 8, &gen}); }, {c.name + ":", "num_classes = 0"});
    expect_error([&] { make_loss(c.name, {5, 0, &gen}); }, {c.name + ":", "embedding_dim"});
    expect_error([&] { make_loss(c.name, {5, 8, nullptr}); }, {c.name + ":", "generator"});
  }
  expect_error(
      [&] {
        make_loss("proxy_nca", {1, 8, &gen});
      },
      {"proxy_nca:", "at least 2", "num_classes = 1"});
}

// Initial parameters follow each paper's code: the distribution's scale for
// normal draws, the bound for uniform ones (C = 40, D = 50: 2000 draws).
TEST(ProxyLossRegistry, InitialisationScales) {
  const int64_t c = 40, d = 50;
  struct Init {
    std::string loss;
    bool uniform;
    double scale;  // std for normal draws, bound for uniform ones
  };
  const std::vector<Init> inits = {
      {"proxy_nca", false, 1.0 / 8},
      {"proxy_anchor", false, std::sqrt(2.0 / c)},
      {"normalized_softmax", true, 1 / std::sqrt(double(d))},
      {"arcface", true, std::sqrt(6.0 / (c + d))},
      {"cosface", true, std::sqrt(6.0 / (c + d))},
      {"softtriple", true, 1 / std::sqrt(double(c * 10))},
  };
  for (const Init& init : inits) {
    Generator gen(11);
    std::unique_ptr<Loss> loss = make_loss(init.loss, {c, d, &gen});
    std::vector<float> v = loss->parameters()[0].to_vector<float>();
    double sq = 0, max_abs = 0;
    for (float e : v) {
      sq += double(e) * e;
      max_abs = std::max(max_abs, std::abs(double(e)));
    }
    const double rms = std::sqrt(sq / double(v.size()));
    const std::string what = loss->describe();
    if (init.uniform) {
      EXPECT_LE(max_abs, init.scale) << what;
      EXPECT_GT(max_abs, 0.98 * init.scale) << what;
      EXPECT_NEAR(rms, init.scale / std::sqrt(3.0), 0.05 * init.scale) << what;
    } else {
      EXPECT_NEAR(rms, init.scale, 0.05 * init.scale) << what;
    }
  }
}

TEST(ProxyLossChecks, LabelsOutsideTheClassesNameTheLossLabelAndRange) {
  Generator gen(2);
  Tensor x = randn({4, 8}, DType::f32, &gen);
  for (const ProxyCase& c : proxy_cases()) {
    std::unique_ptr<Loss> loss = make_loss(c.name, {5, 8, &gen});
    expect_error(
        [&] {
          loss->forward(x, from_vector<int64_t>({0, 1, 5, 2}, {4}));
        },
        {c.name + ":", "label 5", "batch index 2", "[0, 5)"});
    expect_error(
        [&] {
          loss->forward(x, from_vector<int64_t>({-1, 1, 0, 2}, {4}));
        },
        {c.name + ":", "label -1", "batch index 0", "[0, 5)"});
  }
}

TEST(ProxyLossChecks, BatchShapes) {
  Generator gen(2);
  std::unique_ptr<Loss> loss = make_loss("proxy_anchor", {5, 8, &gen});
  Tensor labels = from_vector<int64_t>({0, 1, 2, 3}, {4});
  expect_error(
      [&] {
        loss->forward(randn({4, 7}), labels);
      },
      {"proxy_anchor:", "embeddings", "[B, 8]", "f32[4, 7]"});
  expect_error(
      [&] {
        loss->forward(randn({0, 8}), from_vector<int64_t>({}, {0}));
      },
      {"proxy_anchor:", "B >= 1"});
  expect_error(
      [&] {
        loss->forward(randn({4, 8}), labels.slice(0, 3));
      },
      {"proxy_anchor:", "labels", "got i64[3]"});
  expect_error(
      [&] {
        loss->forward(randn({4, 8}), labels.to(DType::i32));
      },
      {"proxy_anchor:", "labels", "got i32[4]"});
  expect_error(
      [&] {
        losses::SoftTripleLoss(randn({7, 8}), {});
      },
      {"softtriple:", "centers", "10 rows per class"});
  expect_error([&] { losses::CosFaceLoss(randn({8}), {}); }, {"cosface:", "weights", "f32[8]"});
}

// Proxy losses ignore mined tuples: the loss is the same with or without.
TEST(ProxyLossChecks, MinedTuplesAreIgnored) {
  Generator gen(4);
  Tensor x = randn({4, 8}, DType::f32, &gen);
  Tensor labels = from_vector<int64_t>({0, 0, 1, 1}, {4});
  miners::MinedTuples mined;
  mined.pos_anchor = from_vector<int64_t>({0}, {1});
  mined.positive = from_vector<int64_t>({1}, {1});
  mined.neg_anchor = from_vector<int64_t>({0}, {1});
  mined.negative = from_vector<int64_t>({2}, {1});
  for (const ProxyCase& c : proxy_cases()) {
    std::unique_ptr<Loss> loss = make_loss(c.name, {3, 8, &gen});
    EXPECT_EQ(loss->forward(x, labels, &mined).item(), loss->forward(x, labels).item()) << c.name;
  }
}

// f32 training: the forward runs in f32 and the gradient reaches the f32
// parameter; f64 embeddings with an f32 parameter compute in f64 and still
// reach it (through a differentiable cast), close to the f32 result.
TEST(ProxyLossChecks, F32ParametersTrainFromEitherPrecision) {
  Generator gen(6);
  Tensor x64 = randn({6, 8}, DType::f64, &gen);
  Tensor labels = from_vector<int64_t>({0, 1, 2, 0, 1, 2}, {6});
  for (const ProxyCase& c : proxy_cases()) {
    std::unique_ptr<Loss> loss = make_loss(c.name, {3, 8, &gen});
    Tensor p = loss->parameters()[0];
    Tensor v32 = loss->forward(x64.to(DType::f32), labels);
    EXPECT_EQ(v32.dtype(), DType::f32) << c.name;
    v32.backward();
    ASSERT_TRUE(p.grad().defined()) << c.name;
    EXPECT_EQ(p.grad().dtype(), DType::f32) << c.name;
    std::vector<float> g32 = p.grad().to_vector<float>();
    p.zero_grad();
    Tensor v64 = loss->forward(x64, labels);
    EXPECT_EQ(v64.dtype(), DType::f64) << c.name;
    EXPECT_NEAR(v64.item(), v32.item(), 1e-4 * (1 + std::abs(v64.item()))) << c.name;
    v64.backward();
    std::vector<float> g64 = p.grad().to_vector<float>();
    double worst = 0, scale = 0;
    for (size_t i = 0; i < g32.size(); ++i) {
      worst = std::max(worst, std::abs(double(g32[i]) - g64[i]));
      scale = std::max(scale, std::abs(double(g64[i])));
    }
    EXPECT_LE(worst, 1e-3 * (1 + scale)) << c.name;
  }
}

}  // namespace
}  // namespace dml::test
