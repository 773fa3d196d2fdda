// The inference path (layers/inference_model.h) against the training
// engine's eval-mode forward of the same weights (nn::EmbeddingNet under
// NoGradGuard): every backbone, pooling and head option, with random batch
// norm statistics and affine parameters so that folding them matters; its
// errors; the workspace pool's memory; and threads sharing one model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <thread>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "layers/inference_model.h"

namespace dml::nn {
namespace {

// Largest |inference - reference| allowed, relative to the largest reference
// magnitude (at least 1): f32 rounding of a folded versus an unfolded batch
// norm through up to 100 layers stays two orders of magnitude below it.
constexpr double kTolerance = 1e-4;

struct Case {
  std::string backbone;
  int64_t channels, height, width, batch;
  GlobalPool pool = GlobalPool::average;
  bool layer_norm = false, normalize = true;
};

std::string describe_case(const Case& c) {
  return c.backbone + " " + std::to_string(c.channels) + "x" + std::to_string(c.height) + "x" +
         std::to_string(c.width) + " batch " + std::to_string(c.batch) + " pool " +
         std::to_string(int(c.pool)) + (c.layer_norm ? " layer_norm" : "") +
         (c.normalize ? " L2" : "");
}

InferenceArchitecture architecture(const Case& c) {
  return {.backbone = c.backbone,
          .in_channels = c.channels,
          .embedding_dim = 24,
          .pool = c.pool,
          .layer_norm = c.layer_norm,
          .normalize = c.normalize};
}

// An EmbeddingNet with the seeded initialisation, then every 1-D tensor (batch
// norm and layer norm statistics and affine parameters, biases) drawn at
// random: means and biases around 0, variances and scales around 1.
std::shared_ptr<EmbeddingNet> make_net(const Case& c, uint32_t seed = 1) {
  manual_seed(seed);
  ResNetConfig config = resnet_config(c.backbone);
  config.in_channels = c.channels;
  config.num_classes = 0;
  auto net = std::make_shared<EmbeddingNet>(make_resnet(config),
                                            EmbeddingHeadConfig{.embedding_dim = 24,
                                                                .pool = c.pool,
                                                                .layer_norm = c.layer_norm,
                                                                .normalize = c.normalize});
  std::mt19937 rng(seed);
  NamedTensors state = net->state_dict();
  for (auto& [name, t] : state) {
    if (t.dim() != 1 || t.dtype() != DType::f32) continue;
    const bool positive = name.ends_with("running_var") || name.ends_with(".weight");
    std::uniform_real_distribution<float> draw(positive ? 0.5f : -0.2f, positive ? 1.5f : 0.2f);
    for (float& v : std::span(t.data<float>(), size_t(t.numel()))) v = draw(rng);
  }
  net->eval();
  return net;
}

Tensor images(const Case& c, uint64_t seed = 7) {
  manual_seed(seed);
  return randn({c.batch, c.channels, c.height, c.width});
}

Tensor reference(EmbeddingNet& net, const Tensor& x) {
  NoGradGuard no_grad;
  return net.forward(x);
}

std::vector<float> embed(const InferenceModel& model, const Tensor& x) {
  std::vector<float> out(size_t(x.size(0) * model.embedding_dim()));
  model.embed(x.data<float>(), x.size(0), x.size(2), x.size(3), out.data());
  return out;
}

void expect_matches(const Case& c) {
  SCOPED_TRACE(describe_case(c));
  auto net = make_net(c);
  const InferenceModel model(architecture(c), net->state_dict());
  const Tensor x = images(c);
  const std::vector<float> want = reference(*net, x).to_vector<float>();
  const std::vector<float> got = embed(model, x);
  ASSERT_EQ(got.size(), want.size());
  double scale = 1, worst = 0;
  for (float v : want) scale = std::max(scale, double(std::abs(v)));
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (double d = std::abs(double(got[i]) - double(want[i])); !(d <= worst)) worst = d, at = i;
  EXPECT_LE(worst, kTolerance * scale)
      << "element " << at << ": inference " << got[at] << ", training engine " << want[at];
}

TEST(InferenceModel, MatchesTheTrainingEngineForEveryBackbone) {
  // Non-square images, batches of 1 and 3, and each head option on some backbone.
  expect_matches({"resnet18", 3, 32, 48, 3, GlobalPool::average});
  expect_matches({"resnet34", 3, 40, 32, 1, GlobalPool::max, true});
  expect_matches({"resnet50", 3, 36, 44, 3, GlobalPool::average_plus_max});
  expect_matches({"resnet101", 3, 32, 32, 1, GlobalPool::average, false, false});
  expect_matches({"small_resnet10", 1, 28, 28, 3, GlobalPool::max});
  expect_matches({"small_resnet18", 1, 28, 30, 1, GlobalPool::average, true});
}

TEST(InferenceModel, MatchesForEveryHeadOption) {
  // Each pooling, layer norm on and off, L2 normalisation on and off.
  expect_matches({"small_resnet10", 1, 20, 24, 3, GlobalPool::average, false, true});
  expect_matches({"small_resnet10", 1, 20, 24, 3, GlobalPool::max, true, false});
  expect_matches({"small_resnet10", 1, 20, 24, 3, GlobalPool::average_plus_max, true, true});
  expect_matches({"small_resnet10", 1, 20, 24, 3, GlobalPool::average, false, false});
}

TEST(InferenceModel, MatchesOnLargerImagesAndBatches) {
  // Enough rows that the convolutions split them into blocks per thread.
  expect_matches({"small_resnet10", 3, 64, 56, 9});
  expect_matches({"resnet18", 3, 96, 80, 2, GlobalPool::max});
  // 35 images of 28 px run in two passes (18 and 17) through one arena.
  expect_matches({"small_resnet10", 1, 28, 28, 35, GlobalPool::average_plus_max});
}

// The message of the dml::Error that f throws ("" when none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class InferenceModelErrors : public ::testing::Test {
 protected:
  Case c{"small_resnet10", 3, 16, 16, 2};
  std::shared_ptr<EmbeddingNet> net = make_net(c);
  NamedTensors state = net->state_dict();

  Tensor& tensor(const std::string& name) {
    for (auto& [n, t] : state)
      if (n == name) return t;
    throw std::runtime_error("no tensor " + name);
  }
  std::string build_error() {
    return error_of([&] { InferenceModel(architecture(c), state); });
  }
};

TEST_F(InferenceModelErrors, NamesAMissingTensor) {
  std::erase_if(state,
                [](const auto& e) { return e.first == "backbone.layer2.0.bn1.running_var"; });
  const std::string e = build_error();
  EXPECT_NE(e.find("'backbone.layer2.0.bn1.running_var' is missing"), std::string::npos) << e;
}

TEST_F(InferenceModelErrors, NamesAMisShapedTensor) {
  tensor("head.fc.weight") = zeros({24, 100});
  const std::string e = build_error();
  EXPECT_NE(e.find("'head.fc.weight' has shape [24, 100], expected [24, 256]"), std::string::npos)
      << e;
}

TEST_F(InferenceModelErrors, NamesANonFiniteWeight) {
  Tensor w = tensor("backbone.layer3.0.conv2.weight").clone();
  w.data<float>()[5] = std::numeric_limits<float>::quiet_NaN();
  tensor("backbone.layer3.0.conv2.weight") = w;
  const std::string e = build_error();
  EXPECT_NE(e.find("'backbone.layer3.0.conv2.weight' holds nan at element 5"), std::string::npos)
      << e;
}

TEST_F(InferenceModelErrors, NamesANonF32Tensor) {
  tensor("backbone.bn1.weight") = tensor("backbone.bn1.weight").to(DType::f64);
  const std::string e = build_error();
  EXPECT_NE(e.find("'backbone.bn1.weight' is f64[32]"), std::string::npos) << e;
}

TEST_F(InferenceModelErrors, NamesAnUnknownBackbone) {
  c.backbone = "resnet7";
  EXPECT_NE(build_error().find("unknown ResNet 'resnet7'"), std::string::npos);
}

TEST_F(InferenceModelErrors, RefusesEmptyBatchesAndImagesWithoutWriting) {
  const InferenceModel model(architecture(c), state);
  std::vector<float> x(size_t(2 * 3 * 16 * 16), 1.f), out(2 * 24, 42.f);
  const std::string empty = error_of([&] { model.embed(x.data(), 0, 16, 16, out.data()); });
  EXPECT_NE(empty.find("0 images of 16 x 16 px"), std::string::npos) << empty;
  const std::string no_rows = error_of([&] { model.embed(x.data(), 1, 0, 16, out.data()); });
  EXPECT_NE(no_rows.find("1 images of 0 x 16 px"), std::string::npos) << no_rows;
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](float v) { return v == 42.f; }));
  EXPECT_EQ(model.workspace_bytes(), 0);
}

TEST(InferenceModel, EmbedsTheSmallestImages) {
  // Every ResNet layer pads enough that a 1 x 1 image still gives a 1 x 1 map
  // (engine/inference tests the error for a network where it would not).
  expect_matches({"resnet18", 3, 1, 1, 2});
  expect_matches({"small_resnet10", 1, 1, 3, 1});
}

TEST(InferenceModel, PlansMemoryOncePerShape) {
  const Case c{"small_resnet10", 1, 28, 28, 4};
  const InferenceModel model(architecture(c), make_net(c)->state_dict());
  EXPECT_EQ(model.workspace_bytes(), 0);
  const Tensor x = images(c);
  embed(model, x);
  const int64_t one_shape = model.workspace_bytes();
  EXPECT_GT(one_shape, 0);
  for (int i = 0; i < 3; ++i) embed(model, x);
  EXPECT_EQ(model.workspace_bytes(), one_shape);
  const Tensor bigger = images({"small_resnet10", 1, 32, 32, 4});
  embed(model, bigger);
  const int64_t two_shapes = model.workspace_bytes();
  EXPECT_GT(two_shapes, one_shape);
  embed(model, bigger);
  embed(model, x);
  EXPECT_EQ(model.workspace_bytes(), two_shapes);
}

TEST(InferenceModel, ThreadsSharingOneModelGiveTheSerialResults) {
  const Case c{"small_resnet10", 1, 28, 28, 5};
  const InferenceModel model(architecture(c), make_net(c)->state_dict());
  constexpr int kThreads = 4;
  std::vector<Tensor> inputs;
  std::vector<std::vector<float>> serial;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(images(c, 100 + t));
    serial.push_back(embed(model, inputs.back()));
  }
  std::vector<std::vector<float>> parallel(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 3; ++r) parallel[size_t(t)] = embed(model, inputs[size_t(t)]);
    });
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(std::memcmp(parallel[size_t(t)].data(), serial[size_t(t)].data(),
                          serial[size_t(t)].size() * sizeof(float)),
              0)
        << "thread " << t;
}

}  // namespace
}  // namespace dml::nn
