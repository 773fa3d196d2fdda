// Our ResNets against torchvision's (fixtures of tests/golden/make_resnet_golden.py):
// the same weights give the same output and the same gradient for every
// parameter, in training mode (batch statistics, running-statistics update)
// and in eval mode. Committed cases are reduced in width and image size and
// computed in f64; the full-size resnet18/resnet50 cases run on demand when
// DML_RESNET_FULL_FIXTURES names a directory made with --full.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "layers/resnet.h"

namespace dml::nn {
namespace {

struct Case {
  std::map<std::string, Tensor> t;
  nlohmann::json config;
};

Case load_case(const std::string& path) {
  SafetensorsFile f = read_safetensors(path);
  Case c;
  for (auto& [name, tensor] : f.tensors) c.t[name] = tensor;
  c.config = nlohmann::json::parse(f.metadata.at("config"));
  return c;
}

// Every element within atol + rtol * |want|, reporting the worst one.
void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  std::vector<double> w = want.to(DType::f64).to_vector<double>();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double excess = std::abs(g[i] - w[i]) - (atol + rtol * std::abs(w[i]));
    if (excess > worst) worst = excess, at = i;
  }
  EXPECT_LE(worst, 0) << what << ": element " << at << " is " << g[at] << ", torchvision " << w[at];
}

void check_case(const std::string& path, double atol, double rtol) {
  Case c = load_case(path);
  ResNetConfig cfg;
  cfg.block = c.config.at("block") == "basic" ? BlockKind::basic : BlockKind::bottleneck;
  cfg.depths = c.config.at("depths").get<std::vector<int64_t>>();
  cfg.widths = c.config.at("widths").get<std::vector<int64_t>>();
  cfg.num_classes = c.config.at("num_classes");
  cfg.small_stem = c.config.at("small_stem");
  const bool training = c.config.at("training");
  const DType dtype = c.t.at("input").dtype();
  auto model = make_resnet(cfg);
  NamedTensors weights;
  for (const auto& [name, t] : c.t)
    if (name.rfind("param.", 0) == 0) weights.emplace_back(name.substr(6), t);
  // In the reference's precision, so the comparison is of formulas, not of rounding.
  model->to(dtype);
  load_torchvision_weights(*model, weights);
  model->train(training);
  Tensor out = model->forward(c.t.at("input"));
  expect_close(out, c.t.at("output"), atol, rtol, path + " output");
  sum(out * c.t.at("upstream")).backward();
  for (const auto& [name, p] : model->named_parameters())
    expect_close(p.grad(), c.t.at("grad." + name), atol, rtol, path + " gradient of " + name);
  if (training)
    for (const auto& [name, b] : model->named_buffers())
      if (name.find("running") != std::string::npos)
        expect_close(b, c.t.at("after." + name), atol, rtol, path + " " + name);
}

class ResNetParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ResNetParity, MatchesTorchvision) {
  check_case(std::string(DML_SOURCE_DIR) + "/tests/golden/fixtures/" + GetParam() + ".safetensors",
             1e-10, 1e-8);
}

INSTANTIATE_TEST_SUITE_P(Reduced, ResNetParity,
                         ::testing::Values("resnet_basic_train", "resnet_basic_eval",
                                           "resnet_bottleneck_train", "resnet_bottleneck_eval",
                                           "resnet_small_stem_train", "resnet_small_stem_eval"));

TEST(ResNetParityFullSize, Resnet18AndResnet50OnDemand) {
  const char* dir = std::getenv("DML_RESNET_FULL_FIXTURES");
  if (!dir) GTEST_SKIP() << "set DML_RESNET_FULL_FIXTURES (see scripts/check_full_resnets.sh)";
  for (const char* name : {"resnet18_train", "resnet50_train"}) {
    std::string path = std::string(dir) + "/" + name + ".safetensors";
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    check_case(path, 1e-9, 1e-7);
  }
}

}  // namespace
}  // namespace dml::nn
