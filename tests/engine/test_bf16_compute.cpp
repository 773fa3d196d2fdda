// bf16 compute on the CPU: conv2d, matmul and linear on bf16 operands, and
// the autocast scope (engine/autocast.h) that runs them on f32 operands.
//
// The CPU's bf16 ops are defined as "widen to f32, the f32 kernel, round the
// result to bf16 once", so their results must equal, bit for bit, the f32
// op on the widened operands with its result rounded to bf16; gradients
// likewise (the f32 op's backward on the widened values, each gradient
// rounded once). Those tests compare exactly, on the widening path (the
// best of avx512 and below: the paths with bf16 dot products sum in another
// order and are held to the f32-accumulation bound instead, by
// tests/kernels/test_bf16gemm.cpp and test_bf16_conv.cpp). A bf16 op that fed
// the wrong operand, forgot the bias or rounded twice would differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <thread>

#include "engine/autocast.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "kernels/cpu/isa.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/same_values.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

using test::same_values;

Tensor bf16_leaf(const Tensor& f32, bool grad) {
  Tensor t = f32.detach().to(DType::bf16);
  if (grad) t.requires_grad_();
  return t;
}

// fn on bf16 leaves against fn on their f32 widenings, rounded: the output,
// then each gradient for one bf16 upstream gradient. `grad[i]` says whether
// input i takes a gradient.
void expect_bf16_matches_rounded_f32(const std::vector<Shape>& shapes,
                                     const std::vector<bool>& grad, const Fn& fn,
                                     uint64_t seed = 7) {
  const cpu::ScopedIsa widening(std::min(cpu::cpu_isa(), cpu::Isa::avx512));
  Generator gen(seed);
  Inputs b, f;
  for (size_t i = 0; i < shapes.size(); ++i) {
    b.push_back(bf16_leaf(randn(shapes[i], DType::f32, &gen), grad[i]));
    Tensor w = b.back().detach().to(DType::f32);
    if (grad[i]) w.requires_grad_();
    f.push_back(w);
  }
  Tensor yb = fn(b), yf = fn(f);
  ASSERT_EQ(yb.dtype(), DType::bf16);
  EXPECT_TRUE(same_values(yb, yf.to(DType::bf16))) << "output";
  Tensor up = randn(yb.shape(), DType::f32, &gen).to(DType::bf16);
  yb.backward(up);
  yf.backward(up.to(DType::f32));
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!grad[i]) continue;
    ASSERT_TRUE(b[i].grad().defined()) << "input " << i;
    EXPECT_EQ(b[i].grad().dtype(), DType::bf16) << "input " << i;
    EXPECT_TRUE(same_values(b[i].grad(), f[i].grad().to(DType::bf16))) << "gradient of input " << i;
  }
}

Fn conv_fn(Conv2dOptions o) {
  return [o](const Inputs& t) { return conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), o); };
}

// ---------------------------------------------------------------- bf16 ops

TEST(Bf16Conv2d, EqualsTheF32OpOnRoundedOperandsRounded) {
  const std::vector<bool> all{true, true, true};
  // ResNet shapes: the 7x7 stride-2 stem, a 3x3 same-padded conv, a 1x1 stride-2 downsample.
  expect_bf16_matches_rounded_f32({{2, 3, 17, 15}, {5, 3, 7, 7}, {5}}, all,
                                  conv_fn(Conv2dOptions::square(2, 3)));
  expect_bf16_matches_rounded_f32({{3, 6, 9, 9}, {4, 6, 3, 3}, {4}}, all,
                                  conv_fn(Conv2dOptions::square(1, 1)));
  expect_bf16_matches_rounded_f32({{2, 8, 7, 7}, {6, 8, 1, 1}}, {true, true},
                                  conv_fn(Conv2dOptions::square(2, 0)));
  // Odd options together: rectangular stride and padding, dilation, groups.
  expect_bf16_matches_rounded_f32({{2, 6, 11, 8}, {9, 2, 3, 2}, {9}}, all,
                                  conv_fn({2, 1, 1, 2, 2, 1, 3}));
  // A batch large enough for several images per GEMM, and a pointwise conv of one image.
  expect_bf16_matches_rounded_f32({{5, 4, 6, 6}, {3, 4, 3, 3}, {3}}, all,
                                  conv_fn(Conv2dOptions::square(1, 1)));
  expect_bf16_matches_rounded_f32({{1, 5, 4, 4}, {7, 5, 1, 1}, {7}}, all, conv_fn({}));
}

TEST(Bf16Conv2d, GradientOfOneOperand) {
  const Fn fn = conv_fn(Conv2dOptions::square(1, 1));
  const std::vector<Shape> shapes{{2, 3, 6, 6}, {4, 3, 3, 3}, {4}};
  expect_bf16_matches_rounded_f32(shapes, {false, true, true}, fn);
  expect_bf16_matches_rounded_f32(shapes, {true, false, true}, fn);
  expect_bf16_matches_rounded_f32(shapes, {false, false, true}, fn);  // bias only: summed in f32
}

TEST(Bf16Conv2d, EmptyBatch) {
  expect_bf16_matches_rounded_f32({{0, 3, 5, 5}, {4, 3, 3, 3}, {4}}, {true, true, true},
                                  conv_fn(Conv2dOptions::square(1, 1)));
}

TEST(Bf16Matmul, EqualsTheF32OpOnRoundedOperandsRounded) {
  const Fn mm = [](const Inputs& t) { return matmul(t[0], t[1]); };
  expect_bf16_matches_rounded_f32({{7, 33}, {33, 5}}, {true, true}, mm);
  expect_bf16_matches_rounded_f32({{4, 7, 33}, {4, 33, 5}}, {true, true}, mm);  // batched
  expect_bf16_matches_rounded_f32({{4, 7, 33}, {33, 5}}, {true, true}, mm);  // one GEMM of 28 rows
  // A shared by every batch (stride 0): its gradient sums the batches in f32.
  expect_bf16_matches_rounded_f32({{7, 33}, {4, 33, 5}}, {true, true}, mm);
  // Large enough for the blocked f32 GEMM, with edges in every dimension.
  expect_bf16_matches_rounded_f32({{67, 129}, {129, 45}}, {true, true}, mm);
  // No inner dimension: the product is zeros.
  expect_bf16_matches_rounded_f32({{3, 0}, {0, 4}}, {true, true}, mm);
}

TEST(Bf16Linear, EqualsTheF32OpOnRoundedOperandsRounded) {
  const Fn lin = [](const Inputs& t) {
    return t.size() == 3 ? linear(t[0], t[1], t[2]) : linear(t[0], t[1]);
  };
  expect_bf16_matches_rounded_f32({{10, 33}, {7, 33}, {7}}, {true, true, true}, lin);
  expect_bf16_matches_rounded_f32({{10, 33}, {7, 33}}, {true, true}, lin);
  expect_bf16_matches_rounded_f32({{2, 5, 33}, {7, 33}, {7}}, {true, true, true}, lin);
  expect_bf16_matches_rounded_f32({{0, 33}, {7, 33}, {7}}, {true, true, true}, lin);
  expect_bf16_matches_rounded_f32({{10, 33}, {7, 33}, {7}}, {false, false, true}, lin);
}

TEST(Bf16Ops, MixedDtypesAreAnErrorThatNamesTheWayOut) {
  Tensor x = randn({2, 3, 5, 5}), w = randn({4, 3, 3, 3});
  Tensor xb = x.to(DType::bf16), wb = w.to(DType::bf16);
  for (auto f : std::vector<std::function<void()>>{[&] { conv2d(xb, w); }, [&] { conv2d(x, wb); },
                                                   [&] { conv2d(xb, wb, randn({4})); }})
    test::expect_error(f, {"conv2d", "dtypes differ", "bf16", "AutocastGuard"});
  Tensor a = randn({3, 4}), b = randn({4, 2});
  test::expect_error([&] { matmul(a.to(DType::bf16), b); },
                     {"matmul", "dtypes differ", "AutocastGuard"});
  test::expect_error([&] { linear(a, transpose(b, 0, 1).to(DType::bf16)); },
                     {"linear", "dtypes differ", "AutocastGuard"});
  // Other ops stay f32/f64 only.
  test::expect_error([&] { relu(xb); }, {"bf16"});
}

// Gradients meeting at a bf16 tensor are summed (in f32, rounded once).
TEST(Bf16Ops, GradientsOfABf16TensorUsedTwiceAccumulate) {
  Tensor a = bf16_leaf(randn({3, 4}), true), b = bf16_leaf(randn({4, 2}), true);
  Tensor y1 = matmul(a, b), y2 = matmul(a, b);
  Tensor up = ones_like(y1.to(DType::f32)).to(DType::bf16);
  y1.backward(up);
  Tensor once = a.grad().detach().to(DType::f32);
  y2.backward(up);
  EXPECT_TRUE(same_values(a.grad(), (once * 2.0).to(DType::bf16)));  // x2 is exact in bf16
}

// ---------------------------------------------------------------- autocast

TEST(Autocast, GuardSetsAndRestoresTheDtypeAndNests) {
  EXPECT_EQ(autocast_dtype(), DType::f32);
  {
    AutocastGuard on(DType::bf16);
    EXPECT_EQ(autocast_dtype(), DType::bf16);
    {
      AutocastGuard off(DType::f32);
      EXPECT_EQ(autocast_dtype(), DType::f32);
      {
        AutocastGuard again(DType::bf16);
        EXPECT_EQ(autocast_dtype(), DType::bf16);
      }
      EXPECT_EQ(autocast_dtype(), DType::f32);
    }
    EXPECT_EQ(autocast_dtype(), DType::bf16);
    DType other_thread = DType::bf16;
    std::thread([&] { other_thread = autocast_dtype(); }).join();
    EXPECT_EQ(other_thread, DType::f32) << "autocast is per thread";
  }
  EXPECT_EQ(autocast_dtype(), DType::f32);
  test::expect_error([] { AutocastGuard g(DType::f16); }, {"AutocastGuard", "f16", "bf16"});
  test::expect_error([] { AutocastGuard g(DType::f64); }, {"AutocastGuard", "f64"});
  EXPECT_EQ(autocast_dtype(), DType::f32);
}

// The layer's f32 output under autocast is the bf16 op on the rounded
// operands, widened; the f32 master weights get f32 gradients equal to the
// bf16 op's gradients, widened.
void expect_layer_autocasts(nn::Module& layer, const Tensor& weight, const Tensor& bias,
                            const Shape& x_shape, const Fn& bf16_op) {
  Generator gen(3);
  Tensor x = randn(x_shape, DType::f32, &gen).requires_grad_();
  Tensor y;
  {
    AutocastGuard guard(DType::bf16);
    y = layer.forward(x);
  }
  ASSERT_EQ(y.dtype(), DType::f32);
  Tensor xb = bf16_leaf(x, true), wb = bf16_leaf(weight, true), bb = bf16_leaf(bias, true);
  Tensor want = bf16_op({xb, wb, bb});
  ASSERT_EQ(want.dtype(), DType::bf16);
  EXPECT_TRUE(same_values(y, want.to(DType::f32))) << "output";

  // Backward outside the scope, as a training step runs it.
  Tensor up = randn(y.shape(), DType::f32, &gen);
  y.backward(up);
  want.backward(up.to(DType::bf16));
  ASSERT_TRUE(weight.grad().defined());
  EXPECT_EQ(weight.grad().dtype(), DType::f32);
  EXPECT_EQ(bias.grad().dtype(), DType::f32);
  EXPECT_EQ(x.grad().dtype(), DType::f32);
  EXPECT_TRUE(same_values(weight.grad(), wb.grad().to(DType::f32))) << "weight gradient";
  EXPECT_TRUE(same_values(bias.grad(), bb.grad().to(DType::f32))) << "bias gradient";
  EXPECT_TRUE(same_values(x.grad(), xb.grad().to(DType::f32))) << "input gradient";
}

TEST(Autocast, Conv2dLayerComputesInBf16WithF32MasterWeights) {
  manual_seed(1);
  nn::Conv2d conv({.in_channels = 4, .out_channels = 6, .kernel = 3, .stride = 2, .padding = 1});
  expect_layer_autocasts(conv, conv.weight, conv.bias, {2, 4, 9, 9}, [](const Inputs& t) {
    return conv2d(t[0], t[1], t[2], Conv2dOptions::square(2, 1));
  });
}

TEST(Autocast, LinearLayerComputesInBf16WithF32MasterWeights) {
  manual_seed(2);
  nn::Linear fc(33, 7);
  expect_layer_autocasts(fc, fc.weight, fc.bias, {2, 5, 33},
                         [](const Inputs& t) { return linear(t[0], t[1], t[2]); });
}

TEST(Autocast, MatmulComputesInBf16) {
  Tensor a = randn({4, 7, 33}), b = randn({33, 5});
  Tensor y;
  {
    AutocastGuard guard(DType::bf16);
    y = matmul(a, b);
  }
  EXPECT_TRUE(same_values(y, matmul(a.to(DType::bf16), b.to(DType::bf16)).to(DType::f32)));
  EXPECT_FALSE(same_values(y, matmul(a, b))) << "autocast left the product in f32";
}

// Autocast touches f32 operands only: f64 ops, and f32 ops in an f32 scope,
// are computed as without it; bf16 and f32 operands mix (the f32 ones cast).
TEST(Autocast, LeavesF64AndDisabledScopesAloneAndMixesBf16WithF32) {
  Tensor x = randn({2, 3, 6, 6}), w = randn({4, 3, 3, 3});
  Tensor x64 = x.to(DType::f64), w64 = w.to(DType::f64);
  Tensor plain = conv2d(x, w), plain64 = conv2d(x64, w64);
  AutocastGuard guard(DType::bf16);
  Tensor y64 = conv2d(x64, w64);
  EXPECT_EQ(y64.dtype(), DType::f64);
  EXPECT_TRUE(same_values(y64, plain64));
  EXPECT_EQ(matmul(x64.reshape({6, 36}), x64.reshape({36, 6})).dtype(), DType::f64);
  {
    AutocastGuard off(DType::f32);
    EXPECT_TRUE(same_values(conv2d(x, w), plain));
  }
  Tensor mixed = conv2d(x, w.to(DType::bf16));
  EXPECT_EQ(mixed.dtype(), DType::f32);
  EXPECT_TRUE(same_values(mixed, conv2d(x.to(DType::bf16), w.to(DType::bf16)).to(DType::f32)));
  Tensor all_bf16 = conv2d(x.to(DType::bf16), w.to(DType::bf16));
  EXPECT_EQ(all_bf16.dtype(), DType::bf16)
      << "bf16 operands give a bf16 result, as without autocast";
  // f64 and bf16 do not mix, autocast or not.
  test::expect_error([&] { conv2d(x64, w.to(DType::bf16)); }, {"conv2d", "dtypes differ"});
  // Autocast needs no gradient mode.
  NoGradGuard no_grad;
  EXPECT_EQ(linear(randn({2, 5}), randn({3, 5})).dtype(), DType::f32);
}

// The bounds and their argument: tests/support/autocast_resnet_check.h.
TEST(Autocast, SmallResNetStaysWithinBf16RoundingOfTheF32Run) {
  test::expect_autocast_resnet_within_bf16_rounding(Device::cpu());
}

}  // namespace
}  // namespace dml
