// Channels-last (NHWC) activations (engine/channels_last.h) on the CPU, the
// reference of the CUDA path: the convolution against finite differences
// and against conv2d, the layers inside a ChannelsLastScope, and whole
// ResNets (basic blocks and the bottleneck with the 7x7 stem and max pool)
// run channels-last against the same networks in NCHW, forward and
// backward, training and eval, in f64. The batch norm's sums run in
// another order over [N * H * W, C, 1, 1], so the bounds are f64
// rounding's, not equality.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include "engine/channels_last.h"
#include "engine/ops.h"
#include "layers/channels_last_scope.h"
#include "layers/resnet.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::test {
namespace {

TEST(ChannelsLast, ConvolutionMatchesConv2dAndFiniteDifferences) {
  struct Case {
    std::string name;
    Shape x, w;
    Conv2dOptions o;
  };
  const Case cases[] = {
      {"3x3 pad 1", {2, 5, 6, 3}, {4, 3, 3, 3}, Conv2dOptions::square(1, 1)},
      {"stride 2, dilation 2", {1, 9, 7, 2}, {3, 2, 3, 3}, {2, 1, 2, 1, 2, 1, 1}},
      {"groups 2, 1x1", {2, 4, 4, 6}, {4, 3, 1, 1}, Conv2dOptions::square(1, 0, 1, 2)}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Generator gen(4);
    Tensor x = randn(c.x, DType::f64, &gen).requires_grad_();
    Tensor w = randn(c.w, DType::f64, &gen).requires_grad_();
    const Tensor y = conv2d_channels_last(x, w, {}, c.o);
    const Tensor want = to_channels_last(conv2d(to_channels_first(x), w, {}, c.o));
    expect_tensor_near(y, want, 0, 0, "output");
    // Bilinear in (x, w): a wide step has no truncation error and keeps the
    // difference quotient's rounding (|f| / eps) small.
    expect_gradients_match(
        [&] { return sum(mul(conv2d_channels_last(x, w, {}, c.o), y.detach())); }, {x, w}, c.name,
        {.eps = 1e-3});
  }
}

void expect_same_or_both_nan(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  const std::vector<double> g = got.detach().to(DType::f64).to_vector<double>();
  const std::vector<double> w = want.detach().to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_TRUE(g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i])))
        << what << " element " << i << ": " << g[i] << " vs " << w[i];
}

// The max pool walks NHWC planes itself: values, argmax and gradients equal
// the NCHW op's between permutes exactly, in every float type, with ties
// (the first maximum in scan order), a NaN (it wins) and overlapping windows
// (a gradient element gathering several outputs).
TEST(ChannelsLast, MaxPoolEqualsTheNchwPoolAndFiniteDifferences) {
  struct Case {
    std::string name;
    Shape x;
    int64_t kernel, stride, padding;
  };
  const Case cases[] = {{"3x3 s2 p1 (the stem's)", {2, 9, 11, 5}, 3, 2, 1},
                        {"3x3 s1 (overlap 2)", {1, 6, 5, 3}, 3, 1, 0},
                        {"2x2 s2, one channel", {2, 4, 6, 1}, 2, 2, 0}};
  for (const Case& c : cases)
    for (const DType dt : {DType::f64, DType::f32, DType::bf16}) {
      SCOPED_TRACE(c.name + " " + dtype_name(dt));
      // Values from five levels (many windows tie) and one NaN.
      std::vector<double> v(size_t(shape_numel(c.x)));
      for (size_t i = 0; i < v.size(); ++i) v[i] = double((i * 7919) % 5);
      v[v.size() / 3] = NAN;
      Tensor x = from_vector(v, c.x).to(dt).requires_grad_();
      Tensor x_first = to_channels_first(x.detach()).requires_grad_();
      const Tensor y = max_pool2d_channels_last(x, c.kernel, c.stride, c.padding);
      const Tensor want = to_channels_last(max_pool2d(x_first, c.kernel, c.stride, c.padding));
      expect_same_or_both_nan(y, want, "output");
      Generator gen(6);
      const Tensor up = randn(y.shape(), DType::f64, &gen).to(dt);
      y.backward(up);
      max_pool2d(x_first, c.kernel, c.stride, c.padding).backward(to_channels_first(up));
      expect_same_or_both_nan(x.grad(), to_channels_last(x_first.grad()), "gradient");
    }
  Generator gen(8);
  Tensor x = randn({2, 7, 6, 3}, DType::f64, &gen).requires_grad_();
  expect_gradients_match([&] { return sum(mul(max_pool2d_channels_last(x, 3, 2, 1), 1.5)); }, {x},
                         "max_pool2d_channels_last");
}

TEST(ChannelsLast, LayersFollowTheScope) {
  Generator gen(5);
  const Tensor x = randn({2, 3, 5, 5}, DType::f64, &gen);
  nn::Conv2d biased({.in_channels = 3, .out_channels = 4, .kernel = 3, .padding = 1});
  nn::BatchNorm2d norm(4);
  biased.to(DType::f64);
  norm.to(DType::f64);
  norm.eval();
  const Tensor want = norm.forward_relu(biased.forward(x));
  Tensor got;
  {
    nn::ChannelsLastScope scope(true);
    EXPECT_TRUE(nn::channels_last_active());
    got = norm.forward_relu(biased.forward(to_channels_last(x)));
  }
  EXPECT_FALSE(nn::channels_last_active());
  expect_tensor_near(to_channels_first(got), want, 1e-14, 1e-13, "conv (biased) + bn + relu");
}

// The network in NCHW and channels-last from the same weights: outputs,
// every parameter gradient and the running statistics agree to f64 rounding.
void expect_same_network(const nn::ResNetConfig& config, const Shape& input, bool training) {
  manual_seed(7);
  auto nchw = nn::make_resnet(config);
  manual_seed(7);
  auto nhwc = nn::make_resnet(config);
  nchw->to(DType::f64);
  nhwc->to(DType::f64);
  nhwc->set_channels_last(true);
  nchw->train(training);
  nhwc->train(training);
  Generator gen(8);
  const Tensor x = randn(input, DType::f64, &gen);
  const Tensor want = nchw->forward(x), got = nhwc->forward(x);
  expect_tensor_near(got, want, 1e-12, 1e-10, "output");
  sum(mul(want, want)).backward();
  sum(mul(got, got)).backward();
  const auto a = nchw->named_parameters(), b = nhwc->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    expect_tensor_near(b[i].second.grad(), a[i].second.grad(), 1e-10, 1e-8,
                       "gradient of " + a[i].first);
  const auto sa = nchw->state_dict(), sb = nhwc->state_dict();
  for (size_t i = 0; i < sa.size(); ++i)
    expect_tensor_near(sb[i].second, sa[i].second, 1e-12, 1e-10, sa[i].first);
}

TEST(ChannelsLast, ResNetsComputeWhatTheyComputeInNchw) {
  nn::ResNetConfig basic = nn::resnet_config("small_resnet10");
  basic.num_classes = 5;
  for (const bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    expect_same_network(basic, {3, 3, 12, 12}, training);
    const AutocastResNetCase bottleneck = tiny_bottleneck_case();
    expect_same_network(bottleneck.config, bottleneck.input, training);
  }
}

TEST(ChannelsLast, ArgumentsAreChecked) {
  expect_error(
      [] {
        conv2d_channels_last(zeros({2, 3, 4}), zeros({1, 3, 1, 1}), {}, {});
      },
      {"conv2d_channels_last", "input"});
  expect_error(
      [] {
        max_pool2d_channels_last(zeros({2, 3}), 2, 2);
      },
      {"max_pool2d_channels_last", "input"});
}

}  // namespace
}  // namespace dml::test
