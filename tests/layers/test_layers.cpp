// Modules: naming, state dicts with strict checking, modes, the ResNet
// family's structure against torchvision's state_dict layouts, the
// embedding head.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "layers/embedding_head.h"
#include "layers/resnet.h"
#include "layers/simple.h"
#include "tests/support/fixture.h"
#include "tests/support/test_support.h"

namespace dml::nn {
namespace {

using test::expect_error;

TEST(Module, SequentialNamesAndStateDict) {
  Sequential net{std::make_shared<Linear>(4, 3), std::make_shared<ReLU>(),
                 std::make_shared<Linear>(3, 2, /*bias=*/false)};
  NamedTensors sd = net.state_dict();
  ASSERT_EQ(sd.size(), 3u);
  EXPECT_EQ(sd[0].first, "0.weight");
  EXPECT_EQ(sd[1].first, "0.bias");
  EXPECT_EQ(sd[2].first, "2.weight");
  EXPECT_EQ(net.num_parameters(), 4 * 3 + 3 + 3 * 2);
  EXPECT_EQ(net.forward(ones({5, 4})).shape(), (Shape{5, 2}));
  EXPECT_NE(net.summary().find("Linear(3, 2, bias=false)"), std::string::npos) << net.summary();
}

TEST(Module, LoadStateDictCopiesInPlaceAndChecksStrictly) {
  Linear a(3, 2), b(3, 2);
  Tensor held = a.weight;  // an optimizer's handle
  a.load_state_dict(b.state_dict());
  EXPECT_EQ(held.to_vector<float>(), b.weight.to_vector<float>());
  expect_error([&] { a.load_state_dict({{"weight", b.weight}}); }, {"missing", "'bias'"});
  expect_error(
      [&] {
        a.load_state_dict({{"weight", b.weight}, {"bias", b.bias}, {"extra", b.bias}});
      },
      {"unexpected", "'extra'"});
  expect_error(
      [&] {
        a.load_state_dict({{"weight", zeros({2, 4})}, {"bias", b.bias}});
      },
      {"'weight'", "[2, 4]", "[2, 3]"});
  a.load_state_dict({{"weight", zeros({2, 3}, DType::f64)}}, /*strict=*/false);
  EXPECT_EQ(a.weight.to_vector<float>(), std::vector<float>(6, 0.f));
  EXPECT_EQ(a.weight.dtype(), DType::f32);
}

TEST(Module, ToDtypeConvertsInPlaceAndKeepsIntegerBuffers) {
  BatchNorm2d bn(3);
  Tensor held = bn.weight;
  bn.to(DType::f64);
  EXPECT_EQ(held.dtype(), DType::f64);
  EXPECT_TRUE(held.requires_grad());
  EXPECT_EQ(bn.running_var.dtype(), DType::f64);
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::i64);
  EXPECT_THROW(bn.to(DType::i32), Error);
}

TEST(Module, TrainEvalReachesChildrenAndDropout) {
  Sequential net{std::make_shared<Dropout>(0.5)};
  Tensor x = ones({1000});
  EXPECT_FALSE(net.forward(x).same(x));
  net.eval();
  EXPECT_FALSE(net[0].is_training());
  EXPECT_TRUE(net.forward(x).same(x));
}

TEST(BatchNorm2d, FrozenUsesRunningStatisticsInTraining) {
  BatchNorm2d bn(2);
  Tensor x = randn({4, 2, 3, 3});
  bn.forward(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  std::vector<float> mean_after_one = bn.running_mean.to_vector<float>();
  bn.set_frozen(true);
  Tensor y = bn.forward(x);
  EXPECT_EQ(bn.running_mean.to_vector<float>(), mean_after_one);
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  bn.eval();
  Tensor z = bn.forward(x);
  EXPECT_EQ(y.to_vector<float>(), z.to_vector<float>());  // frozen training == eval
  sum(y).backward();
  EXPECT_TRUE(bn.weight.grad().defined());
}

// Our ResNets have torchvision's state_dict: the same names, shapes and order.
class TorchvisionLayout : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchvisionLayout, StateDictMatchesNameForName) {
  static const nlohmann::json layouts = test::load_fixture("torchvision_resnet_layouts.json");
  auto model = make_resnet(GetParam());
  NamedTensors ours = model->state_dict();
  const auto& theirs = layouts.at(GetParam());
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].first, theirs[i][0].get<std::string>()) << "entry " << i;
    EXPECT_EQ(ours[i].second.shape(), theirs[i][1].get<Shape>()) << ours[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(ResNets, TorchvisionLayout,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101"));

TEST(ResNet, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(make_resnet("resnet18")->num_parameters(), 11689512);
  EXPECT_EQ(make_resnet("resnet34")->num_parameters(), 21797672);
  EXPECT_EQ(make_resnet("resnet50")->num_parameters(), 25557032);
  EXPECT_EQ(make_resnet("resnet101")->num_parameters(), 44549160);
}

TEST(ResNet, SmallResNetsForSmallImages) {
  auto net = make_resnet("small_resnet10", 0);
  EXPECT_EQ(net->feature_dim(), 256);
  Tensor f = net->forward_features(randn({2, 3, 28, 28}));
  EXPECT_EQ(f.shape(), (Shape{2, 256, 4, 4}));  // 3x3 stride-1 stem, no max pool
  ResNetConfig c = resnet_config("small_resnet18");
  c.in_channels = 1;
  c.widths = {8, 16};
  c.depths = {1, 3};
  c.block = BlockKind::bottleneck;
  auto custom = make_resnet(c);
  EXPECT_EQ(custom->forward(randn({2, 1, 32, 32})).shape(), (Shape{2, 1000}));
  EXPECT_EQ(custom->feature_dim(), 64);
  expect_error([] { make_resnet("resnet19"); }, {"resnet19", "resnet18", "small_resnet10"});
  expect_error([&] { net->forward(randn({2, 1, 28, 28})); }, {"ResNet", "[2, 1, 28, 28]"});
}

TEST(ResNet, ZeroInitResidualZeroesTheLastBatchNormOfEachBlock) {
  ResNetConfig c = resnet_config("small_resnet10");
  c.zero_init_residual = true;
  auto net = make_resnet(c);
  for (const auto& [name, t] : net->named_parameters()) {
    bool last_bn = name.find("bn2.weight") != std::string::npos && name.rfind("layer", 0) == 0;
    if (last_bn) {
      EXPECT_EQ(amax(abs(t)).item(), 0.0) << name;
    }
    if (name == "bn1.weight") {
      EXPECT_EQ(amin(t).item(), 1.0);
    }
  }
}

TEST(ResNet, TorchvisionWeightsLoadWithoutClassifier) {
  auto with_fc = make_resnet("small_resnet10", 10);
  auto without = make_resnet("small_resnet10", 0);
  load_torchvision_weights(*without, with_fc->state_dict());
  EXPECT_EQ(without->state_dict()[0].second.to_vector<float>(),
            with_fc->state_dict()[0].second.to_vector<float>());
  expect_error([&] { load_torchvision_weights(*with_fc, without->state_dict()); },
               {"missing", "fc.weight"});
}

TEST(EmbeddingNet, UnitNormEmbeddingsAndNames) {
  for (GlobalPool pool : {GlobalPool::average, GlobalPool::max, GlobalPool::average_plus_max}) {
    EmbeddingNet net(make_resnet("small_resnet10", 0),
                     {.embedding_dim = 16, .pool = pool, .layer_norm = true});
    Tensor e = net.forward(randn({3, 3, 32, 32}));
    EXPECT_EQ(e.shape(), (Shape{3, 16}));
    for (float n : sqrt(sum(e * e, {1})).to_vector<float>()) EXPECT_NEAR(n, 1.0f, 1e-5);
    NamedTensors sd = net.state_dict();
    EXPECT_EQ(sd.front().first, "backbone.conv1.weight");
    EXPECT_EQ(sd.back().first, "head.fc.bias");
  }
  expect_error([] { EmbeddingNet(make_resnet("small_resnet10", 10), {}); }, {"classifier"});
}

}  // namespace
}  // namespace dml::nn

namespace dml::nn {
namespace {
TEST(Pooling, ModulesWrapTheirOpsAndDescribeThemselves) {
  Tensor x = randn({1, 2, 6, 6});
  MaxPool2d mp(2, 2);
  AvgPool2d ap(3, 2, 1);
  AdaptiveMaxPool2d amp(2, 3);
  AdaptiveAvgPool2d aap(1, 1);
  EXPECT_EQ(mp.forward(x).to_vector<float>(), max_pool2d(x, 2, 2).to_vector<float>());
  EXPECT_EQ(ap.forward(x).to_vector<float>(), avg_pool2d(x, 3, 2, 1).to_vector<float>());
  EXPECT_EQ(amp.forward(x).to_vector<float>(), adaptive_max_pool2d(x, 2, 3).to_vector<float>());
  EXPECT_EQ(aap.forward(x).to_vector<float>(), adaptive_avg_pool2d(x, 1, 1).to_vector<float>());
  EXPECT_EQ(mp.describe(), "MaxPool2d(kernel=2, stride=2)");
  EXPECT_EQ(ap.describe(), "AvgPool2d(kernel=3, stride=2, padding=1)");
  EXPECT_EQ(amp.describe(), "AdaptiveMaxPool2d(2, 3)");
  EXPECT_EQ(aap.describe(), "AdaptiveAvgPool2d(1, 1)");
}
}  // namespace
}  // namespace dml::nn
