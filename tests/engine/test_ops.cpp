// Op behaviour beyond gradients: values with known answers, no-grad ops,
// edge cases, in-place side effects.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/math_mode.h"
#include "engine/ops.h"

namespace dml {
namespace {

TEST(Ops, ComparisonsReturnMasksWithoutGradient) {
  Tensor a = from_vector<float>({1, 2, 3}, {3}).requires_grad_();
  Tensor b = from_vector<float>({2, 2, 2}, {3});
  EXPECT_EQ(lt(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 0}));
  EXPECT_EQ(le(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 0}));
  EXPECT_EQ(eq(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(ne(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(gt(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(ge(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_FALSE(gt(a, b).requires_grad());
  // Label equality, the mask every DML loss starts from.
  Tensor labels = from_vector<int64_t>({0, 1, 0}, {3});
  EXPECT_EQ(eq(labels.unsqueeze(1), labels.unsqueeze(0)).to_vector<uint8_t>(),
            (std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 0, 1}));
}

TEST(Ops, ArgReductionsAndTopK) {
  Tensor x = from_vector<float>({3, 9, 1, 7, 2, 8}, {2, 3});
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(argmin(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(argmax(x, 1, true).shape(), (Shape{2, 1}));
  auto [v, i] = topk(x, 2, 1);
  EXPECT_EQ(v.to_vector<float>(), (std::vector<float>{9, 3, 8, 7}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 2, 0}));
  auto [vs, is] = topk(x, 1, 0, /*largest=*/false);
  EXPECT_EQ(vs.to_vector<float>(), (std::vector<float>{3, 2, 1}));
  EXPECT_EQ(is.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
}

// The order both backends share (kernels/value_order.h): NaN is the most
// extreme value for max, min and top-k alike, the first one wins; -0 and +0
// are equals; ties keep the lower index first.
TEST(Ops, ArgReductionsAndTopKRankNanFirstAndKeepTiesInIndexOrder) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = from_vector<float>({1, nan, -0.0f, 0.0f, nan, 3, -inf, inf, -0.0f, -2}, {1, 10});
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1}));
  EXPECT_EQ(argmin(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1}));
  EXPECT_TRUE(std::isnan(amax(x).item()));
  auto [v, i] = topk(x, 10, 1);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 4, 7, 5, 0, 2, 3, 8, 9, 6}));
  auto [vs, is] = topk(x, 10, 1, /*largest=*/false);
  EXPECT_EQ(is.to_vector<int64_t>(), (std::vector<int64_t>{6, 9, 2, 3, 8, 0, 5, 7, 1, 4}));
  EXPECT_TRUE(std::signbit(vs.to_vector<float>()[2]));  // the value itself, not its key
  Tensor ties = from_vector<float>({2, 5, 5, 1, 5, 2}, {6});
  EXPECT_EQ(argmax(ties, 0).item(), 1);
  EXPECT_EQ(argmin(ties, 0).item(), 3);
  EXPECT_EQ(topk(ties, 4, 0).second.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 4, 0}));
  EXPECT_EQ(topk(ties, 3, 0, false).second.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 5}));
}

TEST(Ops, OneHotAndMaskedFill) {
  Tensor oh = one_hot(from_vector<int64_t>({2, 0}, {2}), 3);
  EXPECT_EQ(oh.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0}));
  Tensor m = masked_fill(zeros({3}), from_vector<uint8_t>({0, 1, 0}, {3}), 5);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{0, 5, 0}));
}

TEST(Ops, BatchNormUpdatesRunningStatisticsOnlyInTraining) {
  Tensor x = randn({4, 2, 3, 3});
  Tensor rm = zeros({2}), rv = ones({2});
  batch_norm2d(x, {}, {}, rm, rv, false);
  EXPECT_EQ(rm.to_vector<float>(), (std::vector<float>{0, 0}));
  batch_norm2d(x, {}, {}, rm, rv, true, 0.1);
  Tensor batch_mean = mean(x, {0, 2, 3});
  Tensor batch_var = var(x, {0, 2, 3});  // unbiased, as the running estimate uses
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(rm.to_vector<float>()[c], 0.1 * batch_mean.to_vector<float>()[c], 1e-6);
    EXPECT_NEAR(rv.to_vector<float>()[c], 0.9 + 0.1 * batch_var.to_vector<float>()[c], 1e-6);
  }
}

TEST(Ops, DropoutScalesSurvivorsAndIsIdentityInEval) {
  Tensor x = ones({100000});
  EXPECT_TRUE(dropout(x, 0.5, false).same(x));
  Tensor y = dropout(x, 0.25, true);
  std::vector<float> v = y.to_vector<float>();
  int64_t kept = 0;
  for (float e : v) {
    EXPECT_TRUE(e == 0.0f || std::abs(e - 1.0f / 0.75f) < 1e-6);
    kept += e != 0.0f;
  }
  EXPECT_NEAR(double(kept) / double(v.size()), 0.75, 0.01);
  EXPECT_THROW(dropout(x, 1.0, true), Error);
}

TEST(Ops, StableAtExtremes) {
  Tensor big = from_vector<double>({1000, -1000, 0}, {3});
  std::vector<double> s = sigmoid(big).to_vector<double>();
  EXPECT_EQ(s[0], 1.0);
  EXPECT_EQ(s[1], 0.0);
  EXPECT_NEAR(logsumexp(big, {0}).item(), 1000.0, 1e-12);
  EXPECT_NEAR(softplus(big).to_vector<double>()[0], 1000.0, 1e-12);
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(logsumexp(full({2}, -inf, DType::f64), {0}).item(), -inf);
  // A zero distance has a zero (not NaN) gradient through the safe square root.
  Tensor e = from_vector<double>({1, 2, 1, 2}, {2, 2}).requires_grad_();
  sum(pairwise_distance(e, e, Distance::euclidean)).backward();
  for (double g : e.grad().to_vector<double>()) EXPECT_FALSE(std::isnan(g));
  // l2_normalize of a zero row stays zero instead of dividing by zero.
  EXPECT_EQ(l2_normalize(zeros({1, 3}), 1).to_vector<float>(), (std::vector<float>{0, 0, 0}));
}

// With no input features every output row is the bias (rows come from the
// leading dims, not numel / in_features), and the bias still gets its gradient.
TEST(Ops, LinearWithoutInputFeaturesGivesTheBias) {
  Tensor x = zeros({3, 0}), w = zeros({2, 0}).requires_grad_();
  Tensor b = from_vector<float>({1.5f, -2}, {2}).requires_grad_();
  Tensor y = linear(x, w, b);
  ASSERT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1.5f, -2, 1.5f, -2, 1.5f, -2}));
  sum(y).backward();
  EXPECT_EQ(b.grad().to_vector<float>(), (std::vector<float>{3, 3}));
  EXPECT_EQ(w.grad().shape(), (Shape{2, 0}));
}

TEST(Ops, LargeConvolutionMatchesDirectSum) {
  // Checks the im2col path against a plain loop on a size where threads split the work.
  Generator g(3);
  Tensor x = randn({2, 3, 9, 11}, DType::f64, &g), w = randn({4, 3, 3, 2}, DType::f64, &g);
  Conv2dOptions o{2, 1, 1, 2, 1, 2, 1};
  Tensor y = conv2d(x, w, {}, o);
  const double* xp = x.data<double>();
  const double* wp = w.data<double>();
  int64_t oh = y.size(2), ow = y.size(3);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t a = 0; a < 3; ++a)
              for (int64_t b = 0; b < 2; ++b) {
                int64_t iy = i * 2 - 1 + a, ix = j * 1 - 2 + b * 2;
                if (iy < 0 || iy >= 9 || ix < 0 || ix >= 11) continue;
                acc += xp[((n * 3 + c) * 9 + iy) * 11 + ix] * wp[((k * 3 + c) * 3 + a) * 2 + b];
              }
          EXPECT_NEAR(y.data<double>()[((n * 4 + k) * oh + i) * ow + j], acc, 1e-12);
        }
}

}  // namespace
}  // namespace dml

namespace dml {
namespace {
// A batch too large for one column buffer is split into several GEMMs; the
// result must equal convolving each image alone.
TEST(Ops, ConvolutionSplitAcrossGemmsEqualsPerImage) {
  Generator g(5);
  Tensor x = randn({16, 16, 64, 64}, DType::f32, &g).requires_grad_();  // 14 + 2 images per GEMM
  Tensor w = randn({8, 16, 3, 3}, DType::f32, &g).requires_grad_();
  Tensor up = randn({16, 8, 64, 64}, DType::f32, &g);
  Conv2dOptions o = Conv2dOptions::square(1, 1);
  sum(conv2d(x, w, {}, o) * up).backward();
  Tensor gx = x.grad(), gw = w.grad();
  x.zero_grad(), w.zero_grad();
  std::vector<Tensor> outs;
  for (int64_t n = 0; n < 16; ++n) {
    Tensor y = conv2d(x.slice(n, n + 1), w, {}, o);
    outs.push_back(y);
    sum(y * up.slice(n, n + 1)).backward();
  }
  EXPECT_LT(amax(abs(concat(outs, 0) - conv2d(x, w, {}, o))).item(), 1e-4);
  EXPECT_LT(amax(abs(x.grad() - gx)).item(), 1e-4);
  EXPECT_LT(amax(abs(w.grad() - gw)).item(), 1e-2 * amax(abs(gw)).item() * 1e-2);
}

// The TF32 switch is off by default, and a scope restores what it found, so
// `train.precision tf32` ends with its run (on every build, CPU-only too).
TEST(MathMode, Tf32IsOffByDefaultAndScopesRestoreIt) {
  EXPECT_FALSE(allow_tf32());
  {
    AllowTf32Scope on(true);
    EXPECT_TRUE(allow_tf32());
    {
      AllowTf32Scope off(false);
      EXPECT_FALSE(allow_tf32());
    }
    EXPECT_TRUE(allow_tf32());
  }
  EXPECT_FALSE(allow_tf32());
}
}  // namespace
}  // namespace dml
