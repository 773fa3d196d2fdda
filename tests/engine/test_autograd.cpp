#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace dml {
namespace {

Tensor leaf(std::vector<double> v) {
  int64_t n = int64_t(v.size());
  return from_vector<double>(std::move(v), {n}).requires_grad_();
}

TEST(Autograd, ChainRuleAndFanOut) {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = x * x + x;  // x used twice: gradients add up
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3.0, 5.0}));
}

TEST(Autograd, LeafGradientsAccumulateUntilZeroed) {
  Tensor x = leaf({1.0, -1.0});
  sum(x * 2.0).backward();
  sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5.0, 5.0}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

// The data-parallel gradient reducer starts a bucket's all-reduce when its
// leaves are reported: each must be reported once, with its final gradient.
TEST(Autograd, LeafGradReadyReportsEachLeafOnceWithItsFinalGradient) {
  Tensor x = leaf({1.0, 2.0});
  Tensor w = leaf({3.0, 4.0});
  Tensor untouched = leaf({5.0});  // in no graph: never reported
  std::vector<std::pair<const AutogradMeta*, std::vector<double>>> reported;
  LeafGradReady hook = [&](const AutogradMeta& meta) {
    reported.emplace_back(&meta, Tensor(meta.grad).to_vector<double>());
  };
  {
    LeafGradReadyScope scope(&hook);
    Tensor y = x * x + x;  // x reached by two nodes: reported after both
    sum(y * w).backward();
  }
  ASSERT_EQ(reported.size(), 2u);
  for (const auto& [meta, grad] : reported) {
    const Tensor& t = meta == x.impl().autograd.get() ? x : w;
    EXPECT_EQ(grad, t.grad().to_vector<double>());  // final when reported
  }
  EXPECT_NE(reported[0].first, reported[1].first);
  EXPECT_FALSE(untouched.grad().defined());
  sum(x * 2.0).backward();  // outside the scope: no hook
  EXPECT_EQ(reported.size(), 2u);
}

TEST(Autograd, NoGradAndDetachRecordNothing) {
  Tensor x = leaf({1.0});
  {
    NoGradGuard ng;
    EXPECT_FALSE((x * 2.0).requires_grad());
  }
  EXPECT_TRUE((x * 2.0).requires_grad());
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  Tensor y = x * d;  // the detached factor is a constant
  y.backward();
  EXPECT_EQ(x.grad().item(), 1.0);
}

TEST(Autograd, GradientReversalNegatesAndScales) {
  Tensor x = leaf({1.0, 2.0});
  Tensor y = gradient_reversal(x * 3.0, 0.25);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{3.0, 6.0}));
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{-0.75, -0.75}));
}

TEST(Autograd, GraphIsFreedAfterBackwardUnlessRetained) {
  Tensor x = leaf({1.0, 2.0});
  Tensor loss = sum(exp(x));
  loss.backward({}, /*retain_graph=*/true);
  loss.backward();
  EXPECT_NEAR(x.grad().to_vector<double>()[0], 2 * std::exp(1.0), 1e-12);
  try {
    loss.backward();
    FAIL() << "a freed graph must not run again";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos);
  }
}

TEST(Autograd, NodesKeepOnlyWhatBackwardNeeds) {
  // add's rule needs neither input, so an input's memory goes with its last handle.
  Tensor a = leaf({1.0, 2.0});
  Tensor b = from_vector<double>({3.0, 4.0}, {2});
  std::weak_ptr<Storage> b_storage = b.impl().storage;
  Tensor y = a + b;
  b = Tensor();
  EXPECT_TRUE(b_storage.expired());
  // mul's rule needs the other factor, so it is kept.
  Tensor c = from_vector<double>({3.0, 4.0}, {2});
  std::weak_ptr<Storage> c_storage = c.impl().storage;
  Tensor z = a * c;
  c = Tensor();
  EXPECT_FALSE(c_storage.expired());
  sum(z).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3.0, 4.0}));
}

TEST(Autograd, ErrorsNameTheProblem) {
  Tensor x = leaf({1.0, 2.0});
  EXPECT_THROW((x * 2.0).backward(), Error);  // non-scalar without a gradient
  EXPECT_THROW(from_vector<double>({1.0}, {1}).backward(), Error);
  Tensor y = x * 2.0;
  EXPECT_THROW(y.requires_grad_(), Error);          // not a leaf
  EXPECT_THROW(arange(3).requires_grad_(), Error);  // integers have no gradient
  (x * 2.0).backward(ones({2}, DType::f64));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2.0, 2.0}));
}

TEST(Autograd, ViewsCarryGradients) {
  Tensor x = from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
  Tensor y = x.slice(1, 3).reshape({4});
  sum(y * y).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 6, 8, 10, 12}));
}

TEST(Autograd, GradientFlowsAcrossDtypes) {
  Tensor x = leaf({1.5});
  Tensor y = x.to(DType::f32) * 2.0;
  y.backward();
  EXPECT_EQ(x.grad().dtype(), DType::f64);
  EXPECT_EQ(x.grad().item(), 2.0);
}

}  // namespace
}  // namespace dml
