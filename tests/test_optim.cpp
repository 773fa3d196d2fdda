// Optimizer formulas on hand-computable cases; tests/test_parity.cpp checks
// three full training steps against torch.optim.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "tests/test_support.h"

namespace dml {
namespace {

Tensor param(std::vector<double> v) {
  int64_t n = int64_t(v.size());
  return from_vector<double>(std::move(v), {n}).requires_grad_();
}
ParamGroup group(std::vector<Tensor> ps, double lr, double wd = 0) {
  return ParamGroup{.name = "g", .params = std::move(ps), .lr = lr, .weight_decay = wd};
}

TEST(SGD, MomentumWeightDecayAndGroups) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({group({a}, 0.1, 0.5), group({b}, 1.0)}, SgdOptions{.momentum = 0.9});
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    sum(a * 2.0 + b * 2.0).backward();
    opt.step();
  }
  // a: g1 = 2 + 0.5 * 1 = 2.5, buf = 2.5, a = 0.75; g2 = 2 + 0.375 = 2.375,
  //    buf = 0.9 * 2.5 + 2.375 = 4.625, a = 0.75 - 0.4625.
  EXPECT_NEAR(a.item(), 0.2875, 1e-12);
  // b: lr 1, buf 2 then 3.8: b = 1 - 2 - 3.8.
  EXPECT_NEAR(b.item(), -4.8, 1e-12);
  EXPECT_EQ(opt.steps_taken(), 2);
  ASSERT_EQ(opt.state().size(), 4u);  // per parameter: momentum and step
  EXPECT_EQ(opt.state()[0].first, "g.0.momentum");
  EXPECT_EQ(opt.state()[1].first, "g.0.step");
}

// A resumed optimizer continues exactly where the saved one stopped: Adam's
// moments and its per-parameter step (bias correction) both come back.
TEST(Optimizer, LoadStateResumesExactly) {
  auto run_steps = [](Optimizer& opt, Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      sum(w * w * 3.0 + w).backward();
      opt.step();
    }
  };
  Tensor w = param({1.0, -2.0});
  Adam opt({group({w}, 0.1)});
  run_steps(opt, w, 3);
  NamedTensors saved;  // state() hands out the live slots: copy them as a checkpoint does
  for (const auto& [name, t] : opt.state()) saved.emplace_back(name, t.clone());
  Tensor w_saved = w.clone().detach();
  run_steps(opt, w, 2);

  Tensor w2 = param({0.0, 0.0});
  copy_into(w2, w_saved);
  Adam resumed({group({w2}, 0.1)});
  resumed.load_state(saved);
  run_steps(resumed, w2, 2);
  EXPECT_EQ(w2.to_vector<double>(), w.to_vector<double>());

  test::expect_error(
      [&] {
        resumed.load_state({{"other.0.exp_avg", w_saved}});
      },
      {"matches no parameter group"});
  test::expect_error(
      [&] {
        resumed.load_state({{"g.0.exp_avg", from_vector<double>({1.0}, {1})}});
      },
      {"but its parameter is"});
}

TEST(SGD, SkipsParametersWithoutGradient) {
  Tensor a = param({1.0}), unused = param({5.0});
  SGD opt({group({a, unused}, 0.1)});
  sum(a * 3.0).backward();
  opt.step();
  EXPECT_NEAR(a.item(), 0.7, 1e-12);
  EXPECT_EQ(unused.item(), 5.0);
}

TEST(Adam, FirstStepMovesByLearningRate) {
  // Bias correction makes the first update lr * g / (|g| + eps) = lr * sign(g).
  Tensor a = param({1.0, 1.0});
  Adam opt({group({a}, 0.01)});
  sum(a * from_vector<double>({3.0, -0.5}, {2})).backward();
  opt.step();
  EXPECT_NEAR(a.to_vector<double>()[0], 0.99, 1e-8);
  EXPECT_NEAR(a.to_vector<double>()[1], 1.01, 1e-8);
}

TEST(AdamW, DecaysWeightsApartFromTheGradient) {
  // With a zero gradient only the decoupled decay acts: p *= 1 - lr * wd.
  Tensor a = param({2.0});
  AdamW opt({group({a}, 0.1, 0.5)});
  sum(a * 0.0).backward();
  opt.step();
  EXPECT_NEAR(a.item(), 2.0 * (1 - 0.05), 1e-12);
  // Adam's coupled decay instead feeds wd * p into the moments: a full step.
  Tensor b = param({2.0});
  Adam coupled({group({b}, 0.1, 0.5)});
  sum(b * 0.0).backward();
  coupled.step();
  EXPECT_NEAR(b.item(), 1.9, 1e-7);
}

TEST(Optimizer, RejectsNonLeafParameters) {
  Tensor a = param({1.0});
  EXPECT_THROW(SGD({group({a * 2.0}, 0.1)}), Error);
  EXPECT_THROW(SGD({group({zeros({2})}, 0.1)}), Error);
}

TEST(LrSchedule, StepMultiStepAndCosineWarmup) {
  StepLR step(10, 0.5);
  EXPECT_EQ(step.factor(9), 1.0);
  EXPECT_EQ(step.factor(10), 0.5);
  EXPECT_EQ(step.factor(25), 0.25);
  MultiStepLR multi({3, 5}, 0.1);
  EXPECT_EQ(multi.factor(2), 1.0);
  EXPECT_NEAR(multi.factor(3), 0.1, 1e-15);
  EXPECT_NEAR(multi.factor(7), 0.01, 1e-15);
  CosineWithWarmup cos(4, 14, 0.1);
  EXPECT_EQ(cos.factor(0), 0.25);
  EXPECT_EQ(cos.factor(3), 1.0);
  EXPECT_NEAR(cos.factor(4), 1.0, 1e-15);
  EXPECT_NEAR(cos.factor(9), 0.55, 1e-12);  // half way: 0.1 + 0.9 * 0.5
  EXPECT_NEAR(cos.factor(14), 0.1, 1e-12);
  EXPECT_NEAR(cos.factor(100), 0.1, 1e-12);
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt({group({a}, 0.2), group({b}, 0.02)});
  step.apply(opt, 10);
  EXPECT_NEAR(opt.groups()[0].lr, 0.1, 1e-15);
  EXPECT_NEAR(opt.groups()[1].lr, 0.01, 1e-15);
}

}  // namespace
}  // namespace dml
