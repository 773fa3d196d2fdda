// Every differentiable op: analytic gradients against central finite
// differences in f64, on seeded random inputs. The scalar checked is
// sum(f(x) * w) for a fixed random w, so every output element matters.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/autograd.h"
#include "tests/support/op_cases.h"

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

}  // namespace
}  // namespace dml::test
