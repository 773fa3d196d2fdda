// Every differentiable op: analytic gradients against central finite
// differences in f64, on seeded random inputs. The scalar checked is
// sum(f(x) * w) for a fixed random w, so every output element matters. And
// every op of engine/ops.h has a case (here or in the value-only table).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "tests/support/completeness.h"
#include "tests/support/op_cases.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

double weighted_sum(const OpCase& c, const std::vector<Tensor>& in, const Tensor& w) {
  NoGradGuard no_grad;
  Tensor y = c.fn(in);
  return sum(mul(y, w)).item();
}

class GradCheck : public ::testing::TestWithParam<size_t> {};

TEST_P(GradCheck, AnalyticMatchesFiniteDifferences) {
  const OpCase& c = op_cases()[GetParam()];
  std::vector<Tensor> in = make_inputs(c, DType::f64, 1234 + GetParam());
  Tensor y = c.fn(in);
  Generator wgen(99);
  Tensor w = randn(y.shape(), DType::f64, &wgen);
  bool any_grad = false;
  for (const Tensor& t : in) any_grad |= t.requires_grad();
  ASSERT_TRUE(any_grad) << c.name << ": no differentiable input";
  ASSERT_TRUE(y.requires_grad()) << c.name << ": output records no gradient";
  sum(mul(y, w)).backward();
  for (size_t i = 0; i < in.size(); ++i) {
    Tensor& x = in[i];
    if (!x.requires_grad()) continue;
    Tensor analytic = x.grad();
    if (x.numel() == 0) continue;
    ASSERT_TRUE(analytic.defined()) << c.name << ": no gradient for input " << i;
    ASSERT_EQ(analytic.shape(), x.shape()) << c.name;
    double* xp = x.data<double>();
    const double* gp = analytic.data<double>();
    for (int64_t e = 0; e < x.numel(); ++e) {
      const double saved = xp[e];
      xp[e] = saved + c.fd_eps;
      double plus = weighted_sum(c, in, w);
      xp[e] = saved - c.fd_eps;
      double minus = weighted_sum(c, in, w);
      xp[e] = saved;
      double numeric = c.grad_scale * (plus - minus) / (2 * c.fd_eps);
      EXPECT_NEAR(gp[e], numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << c.name << ": input " << i << " element " << e;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, GradCheck, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return op_cases()[info.param].name;
                         });

// Dropout draws a mask, so it is checked with the mask held fixed: a seeded
// generator makes every evaluation draw the same one.
TEST(GradCheckDropout, FixedMaskMatchesFiniteDifferences) {
  Tensor x = randn({4, 5}, DType::f64).requires_grad_();
  auto f = [&](const Tensor& in) {
    Generator g(7);
    return dropout(in, 0.3, true, &g);
  };
  Tensor y = f(x);
  sum(y * y).backward();
  double* xp = x.data<double>();
  for (int64_t e = 0; e < x.numel(); ++e) {
    double saved = xp[e], h = 1e-6;
    NoGradGuard ng;
    xp[e] = saved + h;
    double p = sum(f(x) * f(x)).item();
    xp[e] = saved - h;
    double m = sum(f(x) * f(x)).item();
    xp[e] = saved;
    EXPECT_NEAR(x.grad().data<double>()[e], (p - m) / (2 * h), 1e-6);
  }
}

// The ops of engine/ops.h with no case named after them, and what checks them.
const Exemptions kOpsWithoutANamedCase = {
    {"sum_to", "every broadcasting op's backward: add_broadcast_*, sub_broadcast, div_broadcast"},
    {"pairwise_distance", "cases named by metric: pairwise_sq_euclidean, _euclidean, _cosine"},
    {"batch_norm2d", "cases batch_norm_train, batch_norm_eval, batch_norm_train_noaffine"},
    {"batch_norm2d_relu", "cases batch_norm_relu_* and batch_norm_add_relu_*"},
    {"dropout", "draws a mask: GradCheckDropout above holds it fixed"},
};

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto* table : {&op_cases(), &value_cases()})
    for (const OpCase& c : *table) names.push_back(c.name);
  return names;
}

std::vector<std::string> public_ops() {
  return declared_ops(read_text(DML_SOURCE_DIR "/engine/ops.h"));
}

TEST(OpCoverage, EveryPublicOpHasACaseOrAnExemption) {
  const std::vector<std::string> ops = public_ops();
  ASSERT_GE(ops.size(), 60u) << "engine/ops.h no longer parses as a list of declarations";
  EXPECT_EQ(uncovered(ops, case_names(), kOpsWithoutANamedCase), std::vector<std::string>{});
  EXPECT_EQ(stale_exemptions(kOpsWithoutANamedCase, ops), std::vector<std::string>{});
}

// The check above fails on a new op without a case, an op whose cases are
// gone, and an exemption outliving its op.
TEST(OpCoverage, TheCheckFailsOnAMissingCaseOrAStaleExemption) {
  std::vector<std::string> ops = declared_ops(read_text(DML_SOURCE_DIR "/engine/ops.h") +
                                              "Tensor frobnicate(const Tensor& x);\n");
  EXPECT_EQ(uncovered(ops, case_names(), kOpsWithoutANamedCase),
            std::vector<std::string>{"frobnicate"});
  std::vector<std::string> cases = case_names();
  std::erase_if(cases, [](const std::string& c) { return c.rfind("logsumexp", 0) == 0; });
  EXPECT_EQ(uncovered(public_ops(), cases, kOpsWithoutANamedCase),
            std::vector<std::string>{"logsumexp"});
  std::erase(ops, "dropout");
  EXPECT_EQ(stale_exemptions(kOpsWithoutANamedCase, ops), std::vector<std::string>{"dropout"});
}

// The DML-specific ops have headers of their own and are tested by the test
// file of the same name, which must call every op its header declares.
TEST(OpCoverage, EveryDmlSpecificOpIsCalledByItsTest) {
  for (const std::string name : {"knn", "distance_weighted_margin", "channels_last"}) {
    const std::vector<std::string> ops =
        declared_ops(read_text(DML_SOURCE_DIR "/engine/" + name + ".h"));
    ASSERT_FALSE(ops.empty()) << "engine/" << name << ".h declares no op the check can see";
    const std::string test = read_text(DML_SOURCE_DIR "/tests/engine/test_" + name + ".cpp");
    for (const std::string& op : ops)
      EXPECT_NE(test.find(op + "("), std::string::npos)
          << "engine/" << name << ".h's " << op << " is never called by tests/engine/test_" << name
          << ".cpp";
  }
}

}  // namespace
}  // namespace dml::test
