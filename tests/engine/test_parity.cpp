// Forward and backward parity with PyTorch on the fixtures of
// tests/golden/make_golden.py: every op case in f64, and a small
// conv-BN-ReLU-pool-linear network trained three steps per optimizer in f32.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/autograd.h"
#include "engine/optim/optimizer.h"
#include "tests/support/fixture.h"
#include "tests/support/op_cases.h"

namespace dml::test {
namespace {

void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol,
                  const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  std::vector<double> w = want.to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], atol + rtol * std::abs(w[i])) << what << " element " << i;
}

const nlohmann::json& ops_fixture() {
  static const nlohmann::json j = load_fixture("ops.json");
  return j;
}

class OpParity : public ::testing::TestWithParam<size_t> {};

TEST_P(OpParity, MatchesPyTorchForwardAndBackward) {
  const OpCase& c = op_cases()[GetParam()];
  const auto& cases = ops_fixture().at("cases");
  ASSERT_TRUE(cases.contains(c.name)) << c.name << " has no fixture; rerun make_golden.py";
  const auto& f = cases.at(c.name);
  std::vector<Tensor> in;
  for (const auto& spec : f.at("inputs")) in.push_back(decode(spec));
  for (size_t i = 0; i < in.size(); ++i)
    if (!f.at("grads")[i].is_null()) in[i].requires_grad_();
  Tensor y = c.fn(in);
  expect_close(y, decode(f.at("output")), 1e-10, 1e-9, c.name + " output");
  sum(y * decode(f.at("upstream"))).backward();
  for (size_t i = 0; i < in.size(); ++i) {
    if (f.at("grads")[i].is_null()) continue;
    Tensor want = decode(f.at("grads")[i]);
    Tensor got = in[i].grad().defined() ? in[i].grad() : zeros_like(want);
    expect_close(got, want, 1e-10, 1e-9, c.name + " gradient of input " + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpParity, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return op_cases()[info.param].name;
                         });

class ValueParity : public ::testing::TestWithParam<size_t> {};

TEST_P(ValueParity, MatchesPyTorch) {
  const OpCase& c = value_cases()[GetParam()];
  const auto& cases = ops_fixture().at("value_cases");
  ASSERT_TRUE(cases.contains(c.name)) << c.name << " has no fixture; rerun make_golden.py";
  std::vector<Tensor> in;
  for (const auto& spec : cases.at(c.name).at("inputs")) in.push_back(decode(spec));
  expect_close(c.fn(in), decode(cases.at(c.name).at("output")), 0, 0, c.name);
}

INSTANTIATE_TEST_SUITE_P(NoGradOps, ValueParity, ::testing::Range<size_t>(0, value_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return value_cases()[info.param].name;
                         });

TEST(OpParityCoverage, EveryFixtureCaseHasAnEngineCase) {
  for (auto [table, key] : {std::pair{&op_cases(), "cases"}, {&value_cases(), "value_cases"}}) {
    std::map<std::string, bool> engine;
    for (const OpCase& c : *table) engine[c.name] = true;
    for (const auto& [name, _] : ops_fixture().at(key).items())
      EXPECT_TRUE(engine.count(name)) << name << " is in the fixture but not in the engine's table";
  }
}

// ---- the network step ----

struct Net {
  std::map<std::string, Tensor> p;
  Tensor rm1 = zeros({4}), rv1 = ones({4}), rm2 = zeros({6}), rv2 = ones({6});

  Tensor forward(const Tensor& x, bool training) {
    Tensor h = conv2d(x, p["conv1.weight"], {}, Conv2dOptions::square(1, 1));
    h = batch_norm2d(h, p["bn1.weight"], p["bn1.bias"], rm1, rv1, training);
    h = max_pool2d(relu(h), 2, 2);
    h = conv2d(h, p["conv2.weight"], {}, Conv2dOptions::square(1, 1));
    h = batch_norm2d(h, p["bn2.weight"], p["bn2.bias"], rm2, rv2, training);
    h = adaptive_avg_pool2d(relu(h), 1, 1).flatten(1);
    return linear(h, p["fc.weight"], p["fc.bias"]);
  }
};

const char* kParamOrder[] = {"conv1.weight", "bn1.weight", "bn1.bias",  "conv2.weight",
                             "bn2.weight",   "bn2.bias",   "fc.weight", "fc.bias"};

std::unique_ptr<Optimizer> make_optimizer(const std::string& kind, Net& net) {
  ParamGroup body, head;
  body.name = "body", head.name = "head";
  for (const char* name : kParamOrder)
    (std::string(name).rfind("fc", 0) == 0 ? head : body).params.push_back(net.p[name]);
  if (kind == "sgd") {
    body.lr = 0.1, body.weight_decay = 1e-4, head.lr = 0.2;
    return std::make_unique<SGD>(std::vector<ParamGroup>{body, head},
                                 SgdOptions{.momentum = 0.9, .dampening = 0, .nesterov = true});
  }
  body.lr = 1e-2, head.lr = 2e-2;
  if (kind == "adam") {
    body.weight_decay = 1e-3;
    return std::make_unique<Adam>(std::vector<ParamGroup>{body, head});
  }
  body.weight_decay = 0.05;
  return std::make_unique<AdamW>(std::vector<ParamGroup>{body, head});
}

class NetStepParity : public ::testing::TestWithParam<std::string> {};

TEST_P(NetStepParity, ThreeTrainingStepsMatchPyTorch) {
  static const nlohmann::json fixture = load_fixture("net_step.json");
  const auto& f = fixture.at("optimizers").at(GetParam());
  Net net;
  for (const char* name : kParamOrder)
    net.p[name] = decode(f.at("initial").at(name), DType::f32).requires_grad_();
  Tensor x = decode(f.at("input"), DType::f32), labels = decode(f.at("labels"));
  auto opt = make_optimizer(GetParam(), net);
  for (int step = 0; step < 3; ++step) {
    opt->zero_grad();
    Tensor loss = cross_entropy(net.forward(x, true), labels);
    loss.backward();
    EXPECT_NEAR(loss.item(), f.at("losses")[step].get<double>(), 1e-5) << "step " << step;
    if (step == 0)
      for (const char* name : kParamOrder)
        expect_close(net.p[name].grad(), decode(f.at("first_grads").at(name)), 1e-5, 1e-4,
                     std::string("gradient of ") + name);
    opt->step();
  }
  for (const char* name : kParamOrder)
    expect_close(net.p[name], decode(f.at("final").at(name)), 1e-5, 1e-4,
                 std::string("trained ") + name);
  expect_close(net.rm1, decode(f.at("running").at("bn1.running_mean")), 1e-5, 1e-4, "bn1 mean");
  expect_close(net.rv2, decode(f.at("running").at("bn2.running_var")), 1e-5, 1e-4, "bn2 var");
  NoGradGuard ng;
  expect_close(net.forward(x, false), decode(f.at("eval_logits")), 1e-4, 1e-4, "eval logits");
}

INSTANTIATE_TEST_SUITE_P(Optimizers, NetStepParity, ::testing::Values("sgd", "adam", "adamw"));

}  // namespace
}  // namespace dml::test
