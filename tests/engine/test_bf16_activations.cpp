// bf16 activations on the CPU: batch norm, the fused batch norm + residual +
// ReLU and pooling on bf16 inputs with f32 parameters and running
// statistics, and a ResNet whose backbone keeps its activations in bf16
// under autocast (engine/autocast.h, AutocastActivationsGuard).
//
// The bf16 kernels are the f32 kernels with each bf16 element widened on
// load (exact) and each output element rounded to bf16 once on store
// (kernels/storage_math.h): the statistics and sums read the same f32 values
// in the same order. So each result must equal, bit for bit, the f32 op run
// on the widened inputs with its result rounded to bf16 once; the f32
// results (dweight, dbias, the running statistics) must equal the f32 op's
// exactly. One gap, which these inputs do not reach: the fused op's ReLU
// mask reads y, and an f32 y in (0, 2^-134) rounds to a bf16 +0, masking a
// gradient the f32 op passes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "engine/allocator.h"
#include "engine/autocast.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "layers/resnet.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/same_values.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

using test::same_values;

// One input of an op under test: an activation (bf16 in the bf16 run, its
// widening in the reference) or a parameter / running statistic (f32 in
// both runs, equal values, separate tensors). positive: |N(0, 1)| + 0.5 (a
// running variance).
struct In {
  Shape shape;
  bool activation;
  bool grad;
  bool positive = false;
};

// fn on bf16 activations and f32 parameters against fn on the activations
// widened to f32: the output equals the reference rounded to bf16; for one
// bf16 upstream gradient, each activation's gradient is bf16 and equals the
// reference's rounded; each parameter's gradient is f32 and equals the
// reference's; parameters fn changes in place (running statistics) end equal.
void expect_matches_widened_f32(const std::vector<In>& ins, const Fn& fn, uint64_t seed = 7) {
  Generator gen(seed);
  Inputs b, f;
  for (const In& in : ins) {
    Tensor v = randn(in.shape, DType::f32, &gen);
    if (in.positive) v = abs(v) + 0.5;
    if (in.activation) v = v.to(DType::bf16);
    Tensor wide = v.to(DType::f32);
    Tensor mine = in.activation ? v : v.clone();
    if (in.grad) {
      mine.requires_grad_();
      wide.requires_grad_();
    }
    b.push_back(mine);
    f.push_back(wide);
  }
  Tensor yb = fn(b), yf = fn(f);
  ASSERT_EQ(yb.dtype(), DType::bf16);
  EXPECT_TRUE(same_values(yb, yf.to(DType::bf16))) << "output";
  for (size_t i = 0; i < ins.size(); ++i) {
    if (ins[i].activation || ins[i].grad) continue;
    EXPECT_TRUE(same_values(b[i], f[i])) << "input " << i << " after the op";
  }
  if (yb.numel() == 0 || !yb.requires_grad()) return;
  Tensor up = randn(yb.shape(), DType::f32, &gen).to(DType::bf16);
  yb.backward(up);
  yf.backward(up.to(DType::f32));
  for (size_t i = 0; i < ins.size(); ++i) {
    if (!ins[i].grad) continue;
    ASSERT_TRUE(b[i].grad().defined()) << "input " << i;
    const DType want = ins[i].activation ? DType::bf16 : DType::f32;
    EXPECT_EQ(b[i].grad().dtype(), want) << "input " << i;
    EXPECT_TRUE(same_values(b[i].grad(), f[i].grad().to(want))) << "gradient of input " << i;
  }
}

// ------------------------------------------------------------ batch norm

// Inputs: x, weight, bias, running_mean, running_var[, residual].
std::vector<In> bn_inputs(const Shape& shape, bool affine, bool residual, bool residual_grad) {
  const Shape c{shape[1]};
  std::vector<In> ins{{shape, true, true},
                      {c, false, affine},
                      {c, false, affine},
                      {c, false, false},
                      {c, false, false, true}};
  if (residual) ins.push_back({shape, true, residual_grad});
  return ins;
}

TEST(Bf16BatchNorm, EqualsTheF32OpOnWidenedInputsRounded) {
  // hw = 42: the backward's 8-lane sums end in a partial group.
  for (const Shape& shape : {Shape{3, 5, 7, 6}, Shape{2, 3, 1, 1}, Shape{1, 4, 9, 9}})
    for (bool training : {true, false})
      for (bool affine : {true, false}) {
        SCOPED_TRACE(detail::concat(shape_str(shape), training ? " training" : " eval",
                                    affine ? " affine" : " plain"));
        expect_matches_widened_f32(bn_inputs(shape, affine, false, false), [&](const Inputs& t) {
          return batch_norm2d(t[0], affine ? t[1] : Tensor(), affine ? t[2] : Tensor(), t[3], t[4],
                              training, 0.1, 1e-5);
        });
      }
}

TEST(Bf16BatchNorm, FusedWithResidualAndReluEqualsTheF32OpOnWidenedInputsRounded) {
  for (bool training : {true, false})
    for (bool residual : {true, false})
      for (bool residual_grad : {true, false}) {
        if (!residual && residual_grad) continue;
        SCOPED_TRACE(detail::concat(training ? "training" : "eval",
                                    residual ? " residual" : " no residual",
                                    residual_grad ? " (with its gradient)" : ""));
        expect_matches_widened_f32(
            bn_inputs({3, 5, 7, 6}, true, residual, residual_grad), [&](const Inputs& t) {
              return batch_norm2d_relu(t[0], t[1], t[2], t[3], t[4], training, 0.1, 1e-5,
                                       t.size() > 5 ? t[5] : Tensor());
            });
      }
}

TEST(Bf16BatchNorm, EmptyBatchInEval) {
  expect_matches_widened_f32(bn_inputs({0, 4, 3, 3}, true, true, true), [](const Inputs& t) {
    return batch_norm2d_relu(t[0], t[1], t[2], t[3], t[4], false, 0.1, 1e-5, t[5]);
  });
}

TEST(Bf16BatchNorm, MixedDtypesAreAnErrorThatNamesTheWayOut) {
  const Tensor xb = randn({2, 3, 4, 4}).to(DType::bf16), w = ones({3}), b = zeros({3});
  const Tensor rm = zeros({3}), rv = ones({3});
  // bf16 activations take f32 parameters only.
  test::expect_error([&] { batch_norm2d(xb, w.to(DType::f64), b, rm, rv, true, 0.1, 1e-5); },
                     {"batch_norm2d", "must be f32", "bf16 activations take f32 parameters"});
  test::expect_error([&] { batch_norm2d(xb, w, b, rm.to(DType::bf16), rv, true, 0.1, 1e-5); },
                     {"batch_norm2d", "must be f32"});
  // The residual has the input's dtype.
  test::expect_error(
      [&] { batch_norm2d_relu(xb.to(DType::f32), w, b, rm, rv, true, 0.1, 1e-5, xb); },
      {"batch_norm2d_relu", "dtype"});
}

// --------------------------------------------------------------- pooling

TEST(Bf16Pooling, EqualsTheF32OpOnWidenedInputsRounded) {
  // The stem's 3x3 stride-2 padded max pool (overlapping windows: input
  // gradients collect up to 4 terms, summed in f32 and rounded once), odd
  // sizes, and the global pools.
  const std::vector<In> x{{{2, 3, 9, 10}, true, true}};
  expect_matches_widened_f32(x, [](const Inputs& t) { return max_pool2d(t[0], 3, 2, 1); });
  expect_matches_widened_f32(x, [](const Inputs& t) { return avg_pool2d(t[0], 3, 2, 1); });
  expect_matches_widened_f32(x, [](const Inputs& t) { return adaptive_avg_pool2d(t[0], 1, 1); });
  expect_matches_widened_f32(x, [](const Inputs& t) { return adaptive_max_pool2d(t[0], 2, 3); });
}

// -------------------------------------------------- the autocast policy

TEST(Bf16Activations, Conv2dKeepsBf16OnlyInsideTheActivationsScope) {
  const Tensor x = randn({2, 3, 6, 6}), w = randn({4, 3, 3, 3});
  const Conv2dOptions o{.pad_h = 1, .pad_w = 1};
  EXPECT_FALSE(autocast_keeps_activations());
  AutocastGuard autocast(DType::bf16);
  EXPECT_EQ(conv2d(x, w, Tensor(), o).dtype(), DType::f32);
  {
    AutocastActivationsGuard keep(true);
    EXPECT_TRUE(autocast_keeps_activations());
    const Tensor y = conv2d(x, w, Tensor(), o);
    EXPECT_EQ(y.dtype(), DType::bf16);
    // Its value is the cast-back result's, rounded once (the same bf16).
    EXPECT_TRUE(same_values(y.to(DType::f32), [&] {
      AutocastActivationsGuard back(false);
      EXPECT_FALSE(autocast_keeps_activations());
      return conv2d(x, w, Tensor(), o);
    }()));
    EXPECT_TRUE(autocast_keeps_activations());
    // Autocast off: the scope changes nothing.
    AutocastGuard off(DType::f32);
    EXPECT_EQ(conv2d(x, w, Tensor(), o).dtype(), DType::f32);
  }
  EXPECT_FALSE(autocast_keeps_activations());
}

// A block run as the backbone runs it: bf16 in, bf16 out, the input's
// gradient bf16 (gradients of the convolution and of the shortcut meet
// there, summed in f32 and rounded once, engine/autograd.cpp), the
// parameters' gradients f32 and finite.
template <class Block>
void expect_block_keeps_bf16(Block& block, const Shape& input) {
  Tensor x = randn(input).to(DType::bf16).requires_grad_();
  Tensor y;
  {
    AutocastGuard autocast(DType::bf16);
    AutocastActivationsGuard keep(true);
    y = block.forward(x);
  }
  ASSERT_EQ(y.dtype(), DType::bf16);
  sum(y.to(DType::f32)).backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), DType::bf16);
  EXPECT_TRUE(std::isfinite(sum(x.grad().to(DType::f32)).item()));
  for (const auto& [name, p] : block.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().dtype(), DType::f32) << name;
    EXPECT_TRUE(std::isfinite(sum(abs(p.grad())).item())) << name;
  }
}

TEST(Bf16Activations, ResNetBlocksTakeAndGiveBf16) {
  manual_seed(2);
  nn::BasicBlock identity(8, 8, 1, false), projected(8, 16, 2, false);
  nn::Bottleneck bottleneck(8, 4, 2, false);
  expect_block_keeps_bf16(identity, {2, 8, 6, 6});
  expect_block_keeps_bf16(projected, {2, 8, 6, 6});
  expect_block_keeps_bf16(bottleneck, {2, 8, 6, 6});
}

TEST(Bf16Activations, BackboneGivesF32FeaturesAndF32Gradients) {
  manual_seed(4);
  auto net = nn::make_resnet(test::tiny_bottleneck_case().config);
  const Tensor x = randn({2, 3, 32, 32});
  Tensor features;
  {
    AutocastGuard autocast(DType::bf16);
    features = net->forward_features(x);
  }
  EXPECT_EQ(features.dtype(), DType::f32);
  EXPECT_FALSE(autocast_keeps_activations());
  sum(features).backward();
  for (const auto& [name, p] : net->named_parameters()) {
    if (name.rfind("fc.", 0) == 0) continue;
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_EQ(p.grad().dtype(), DType::f32) << name;
  }
  for (const auto& [name, b] : net->named_buffers())
    EXPECT_NE(b.dtype(), DType::bf16) << name << ": running statistics stay f32";
}

// The bounds and their argument: tests/support/autocast_resnet_check.h.
TEST(Bf16Activations, TinyBottleneckResNetStaysWithinBf16RoundingOfTheF32Run) {
  test::expect_autocast_resnet_within_bf16_rounding(Device::cpu(), test::tiny_bottleneck_case());
}

// Memory of one training step: the CPU tensor bytes the forward leaves
// held (the graph's saved tensors and the output: the activations), and the
// peak over forward and backward, each above the bytes held before (the
// parameters and their gradients, allocated by a step before).
struct StepBytes {
  size_t held_after_forward, peak;
};
StepBytes step_bytes(nn::ResNet& net, const Tensor& x, DType compute) {
  const size_t base = cpu_memory_stats().bytes_in_use;
  reset_cpu_peak();
  StepBytes out{};
  {
    Tensor y;
    {
      AutocastGuard autocast(compute);
      y = net.forward(x);
    }
    out.held_after_forward = cpu_memory_stats().bytes_in_use - base;
    sum(y).backward();
  }
  out.peak = cpu_memory_stats().peak_bytes_in_use - base;
  return out;
}

// With f32 activations autocast saved nothing (bf16 copies beside the f32
// activations). With bf16 activations every activation the backbone's graph
// keeps - a convolution's input, a batch norm's input and output, the max
// pool's output - is bf16, half its f32 bytes. The autocast graph also keeps
// each convolution's bf16 weight copy (the f32 graph keeps the parameter
// itself, no new bytes): half the weights' f32 bytes, which at this small
// size is a third of what it holds. Without those copies it holds about half
// of the f32 run's: the f32 input image, its bf16 copy and the batch norms'
// f32 statistics are all that is not halved, so <= 0.55 (measured in the
// message: 0.51). The step's peak falls less (0.80 measured, <= 0.85): the
// backward adds the f32 gradients of the weight copies and of the f32
// features, and the parameters' gradients are f32 in both runs.
TEST(Bf16Activations, AutocastHalvesTheActivationsOfAStep) {
  manual_seed(6);
  nn::ResNetConfig c = nn::resnet_config("small_resnet10");
  c.num_classes = 0;
  auto net = nn::make_resnet(c);
  const Tensor x = randn({8, 3, 32, 32});
  sum(net->forward(x)).backward();  // allocates the parameters' gradients
  size_t weight_copies = 0;
  for (const auto& [name, p] : net->named_parameters())
    if (p.dim() == 4) weight_copies += size_t(p.numel()) * 2;
  const StepBytes f32 = step_bytes(*net, x, DType::f32);
  const StepBytes bf16 = step_bytes(*net, x, DType::bf16);
  const double held = double(bf16.held_after_forward) / double(f32.held_after_forward);
  const double activations =
      double(bf16.held_after_forward - weight_copies) / double(f32.held_after_forward);
  const double peak = double(bf16.peak) / double(f32.peak);
  std::printf(
      "small_resnet10 [8, 3, 32, 32]: held after forward f32 %.2f MB, autocast %.2f MB (ratio "
      "%.3f; %.3f without the %.2f MB of bf16 weight copies); step peak f32 %.2f MB, autocast "
      "%.2f MB (ratio %.3f)\n",
      double(f32.held_after_forward) / 1e6, double(bf16.held_after_forward) / 1e6, held,
      activations, double(weight_copies) / 1e6, double(f32.peak) / 1e6, double(bf16.peak) / 1e6,
      peak);
  EXPECT_LT(activations, 0.55);
  EXPECT_LT(peak, 0.85);
}

}  // namespace
}  // namespace dml
