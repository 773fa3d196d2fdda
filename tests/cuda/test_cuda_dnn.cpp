// conv2d (cuDNN), batch_norm2d and pooling (own kernels) on CUDA against the
// CPU backend (tests/support/cuda_parity.h), forward and backward, f32 and f64.
// Skipped where no GPU is present, except the algorithm-cache key tests,
// which need none.
//
// The pooling windows' shared code (kernels/pool_window.h) and the conv
// algorithm cache's key are also checked on the host, where they run
// without a GPU: the CUDA backward's gather against the CPU's scatter.
//
// Bounds, per op. Inputs and upstream gradients are N(0, 1).
// - conv2d: each output and gradient element is a sum of K products: K =
//   C/groups * KH * KW for the output (at most 16 * 9 = 144 here), O/groups
//   * KH * KW for the data gradient, N * OH * OW for the filter gradient (at
//   most 3 * 14 * 14 = 588). The CPU (im2col + GEMM) and cuDNN add in
//   different orders and cuDNN may use Winograd or FFT algorithms: a few
//   units of u * sqrt(K) * |element| typically, with u = 2^-24 (f32) or
//   2^-53 (f64), and element magnitudes up to sqrt(K) ~ 25. The bounds are
//   ~10x that (kConv); a wrong index or stride is off by O(1), an unwritten
//   element is NaN (poisoned allocations).
// - batch_norm2d: both devices sum in double and share every step after the
//   sums (kernels/batch_norm_math.h), so outputs differ by a rounding or two
//   of O(1) values (nvcc contracts x * scale + shift into one FMA, GCC does
//   not); the parameter gradients are sums over up to 270400 elements in
//   double, rounded once. kBatchNorm allows a few ulps of values up to
//   ~1e3 (the largest dbeta).
// - batch_norm2d_relu: batch_norm2d's arithmetic, then the residual add and
//   ReLU rounded as the add and relu ops round them, and the backward of
//   batch_norm2d on the masked gradient; kBatchNorm holds. One hazard: an
//   element whose ReLU input lies within one rounding of 0 can land on
//   either side on the two devices (the FMA above), and its gradient then
//   differs by O(1). For N(0, 1)-scaled values that takes |value| below
//   ~3e-8 in f32 (a chance of ~2e-8 per element): the f32 cases stay below
//   ~1e6 elements (expected flips < 0.02); the case beyond one grid of
//   blocks runs in f64, where the window is ~1e-16.
// - pooling: the CUDA kernels run the CPU's own window code
//   (kernels/pool_window.h) and the backward gathers in the CPU scatter's
//   order, so results are equal; kPool allows one rounding anyway.
#include <gtest/gtest.h>

#include <functional>
#include <iterator>

#include "engine/channels_last.h"
#include "engine/ops.h"
#include "kernels/cpu/pool2d.h"
#include "kernels/cuda/blas.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda_runtime/dnn.h"
#include "kernels/cuda_runtime/stream.h"
#include "layers/batch_norm.h"
#include "layers/resnet.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::CudaParity;
using test::FloatBounds;
using test::Inputs;
using test::InputSpec;
using test::OpCase;
using test::Tolerance;

constexpr FloatBounds kConv{{5e-4, 1e-4}, {1e-11, 1e-12}};
constexpr FloatBounds kBatchNorm{{2e-5, 2e-6}, {1e-12, 1e-13}};
constexpr FloatBounds kPool{{0, 2.5e-7}, {0, 5e-16}};
// TF32 rounds each conv input to 10 mantissa bits (u = 2^-11): an element's
// error is at most 2 * u * sum|a_i b_i|, about 1.7e-2 for K = 27.
constexpr Tolerance kTf32Conv{3e-2, 1e-2};

InputSpec N(Shape s) {
  return {std::move(s), test::InputKind::normal};
}
InputSpec Frozen(Shape s) {
  return {std::move(s), test::InputKind::constant_normal};
}
InputSpec FrozenPositive(Shape s) {
  return {std::move(s), test::InputKind::constant_positive};
}

void expect_parity(const OpCase& c, const FloatBounds& b) {
  test::expect_cuda_parity_f32_f64(c, b, b);
}

// ---------------------------------------------------------------- op table

TEST_F(CudaParity, ConvCasesOfTheOpTable) {
  EXPECT_GE(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 if (!c.name.starts_with("conv2d")) return false;
                                 expect_parity(c, kConv);
                                 return true;
                               }),
            7);
}

TEST_F(CudaParity, BatchNormCasesOfTheOpTable) {
  EXPECT_GE(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 if (!c.name.starts_with("batch_norm")) return false;
                                 expect_parity(c, kBatchNorm);
                                 return true;
                               }),
            8);
}

TEST_F(CudaParity, PoolCasesOfTheOpTable) {
  EXPECT_GE(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 const std::string& n = c.name;
                                 if (!n.starts_with("max_pool2d") && !n.starts_with("avg_pool2d") &&
                                     !n.starts_with("adaptive_"))
                                   return false;
                                 expect_parity(c, kPool);
                                 return true;
                               }),
            6);
}

// ---------------------------------------------------------------- conv2d

OpCase conv_case(std::string name, Shape x, Shape w, bool bias, Conv2dOptions o) {
  std::vector<InputSpec> in{N(std::move(x)), N(w)};
  if (bias) in.push_back(N({w[0]}));
  return {std::move(name), std::move(in),
          [o](const Inputs& t) { return conv2d(t[0], t[1], t.size() == 3 ? t[2] : Tensor(), o); }};
}

TEST_F(CudaParity, ConvResNetStem7x7Stride2Pad3) {
  expect_parity(conv_case("stem", {2, 3, 29, 31}, {8, 3, 7, 7}, false, Conv2dOptions::square(2, 3)),
                kConv);
}

TEST_F(CudaParity, Conv3x3SamePadding) {
  expect_parity(
      conv_case("3x3", {3, 16, 14, 14}, {16, 16, 3, 3}, true, Conv2dOptions::square(1, 1)), kConv);
}

TEST_F(CudaParity, Conv1x1Stride2Downsample) {
  expect_parity(
      conv_case("1x1 s2", {2, 16, 15, 15}, {32, 16, 1, 1}, false, Conv2dOptions::square(2, 0)),
      kConv);
}

TEST_F(CudaParity, ConvGroupsAndDepthwise) {
  expect_parity(
      conv_case("groups 4", {2, 8, 10, 10}, {12, 2, 3, 3}, true, Conv2dOptions::square(1, 1, 1, 4)),
      kConv);
  expect_parity(
      conv_case("depthwise", {2, 8, 9, 9}, {8, 1, 3, 3}, true, Conv2dOptions::square(2, 1, 1, 8)),
      kConv);
}

// Every option different per axis and nothing a power of two.
TEST_F(CudaParity, ConvOddSizesAndMixedOptions) {
  expect_parity(
      conv_case("odd", {3, 5, 13, 11}, {7, 5, 4, 2}, true, Conv2dOptions{3, 2, 2, 1, 2, 3, 1}),
      kConv);
}

TEST_F(CudaParity, ConvBatchOfOne) {
  expect_parity(conv_case("batch 1", {1, 4, 8, 8}, {6, 4, 3, 3}, true, Conv2dOptions::square(1, 1)),
                kConv);
}

// Only the weight (and bias) take a gradient, then only the input: each
// backward pass alone, the bias gradient without the filter gradient.
TEST_F(CudaParity, ConvGradientOfOneOperand) {
  const Conv2dOptions o = Conv2dOptions::square(1, 1);
  auto fn = [o](const Inputs& t) { return conv2d(t[0], t[1], t[2], o); };
  expect_parity({"frozen input", {Frozen({2, 3, 6, 6}), N({4, 3, 3, 3}), N({4})}, fn}, kConv);
  expect_parity({"frozen weight", {N({2, 3, 6, 6}), Frozen({4, 3, 3, 3}), N({4})}, fn}, kConv);
  expect_parity({"bias only", {Frozen({2, 3, 6, 6}), Frozen({4, 3, 3, 3}), N({4})}, fn}, kConv);
}

TEST_F(CudaParity, ConvWithTf32StaysWithinTf32Rounding) {
  const bool before = cuda::allow_tf32();
  cuda::set_allow_tf32(true);
  for (const OpCase& c : test::op_cases())
    if (c.name == "conv2d") test::expect_cuda_parity(c, DType::f32, kTf32Conv, kTf32Conv);
  cuda::set_allow_tf32(before);
}

// One search per problem: a second call with the same problem uses the
// cached algorithm, a different problem (here: the stride) gets its own.
TEST_F(CudaParity, ConvAlgorithmIsSearchedOncePerProblem) {
  const kernels::ConvShape stride1{2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  kernels::ConvShape stride2 = stride1;
  stride2.stride_h = stride2.stride_w = 2;
  auto run = [](const kernels::ConvShape& s) {
    Tensor x = randn({s.n, s.c, s.h, s.w}).to(Device::cuda(0)).requires_grad_();
    Tensor w = randn({s.o, s.c, s.kh, s.kw}).to(Device::cuda(0)).requires_grad_();
    Tensor y = conv2d(x, w, {}, Conv2dOptions::square(s.stride_h, s.pad_h));
    y.backward(randn(y.shape()).to(Device::cuda(0)));
    cuda::synchronize(0);
  };
  const size_t size0 = cuda::conv_algorithm_cache_size();
  const uint64_t searches0 = cuda::conv_algorithm_searches();
  run(stride1);
  // The forward, data-gradient and filter-gradient problems (no other test
  // uses these shapes).
  const size_t size1 = cuda::conv_algorithm_cache_size();
  const uint64_t searches1 = cuda::conv_algorithm_searches();
  EXPECT_EQ(size1 - size0, 3u);
  EXPECT_EQ(searches1 - searches0, 3u);
  const cuda::ConvProblem fwd1 = cuda::conv_problem<float>(stride1, cuda::ConvPass::forward, 0);
  cuda::ConvAlgorithm first{}, again{};
  ASSERT_TRUE(cuda::cached_conv_algorithm(fwd1, &first));
  for (cuda::ConvPass pass : {cuda::ConvPass::backward_data, cuda::ConvPass::backward_filter})
    EXPECT_TRUE(cuda::cached_conv_algorithm(cuda::conv_problem<float>(stride1, pass, 0), &again));

  run(stride1);
  EXPECT_EQ(cuda::conv_algorithm_searches(), searches1) << "a cached problem was searched again";
  EXPECT_EQ(cuda::conv_algorithm_cache_size(), size1);
  ASSERT_TRUE(cuda::cached_conv_algorithm(fwd1, &again));
  EXPECT_EQ(again, first);

  const cuda::ConvProblem fwd2 = cuda::conv_problem<float>(stride2, cuda::ConvPass::forward, 0);
  EXPECT_FALSE(cuda::cached_conv_algorithm(fwd2, &again));
  run(stride2);
  EXPECT_EQ(cuda::conv_algorithm_cache_size(), size1 + 3);
  EXPECT_EQ(cuda::conv_algorithm_searches(), searches1 + 3);
  EXPECT_TRUE(cuda::cached_conv_algorithm(fwd2, &again));
  ASSERT_TRUE(cuda::cached_conv_algorithm(fwd1, &again));
  EXPECT_EQ(again, first);
}

TEST_F(CudaParity, ConvMixedDevicesAreAnError) {
  Tensor x = randn({1, 2, 5, 5}), w = randn({3, 2, 3, 3}).to(Device::cuda(0));
  test::expect_error([&] { conv2d(x, w); }, {"conv2d", "different devices"});
  test::expect_error([&] { conv2d(x.to(Device::cuda(0)), w, randn({3})); },
                     {"conv2d", "different devices"});
}

// ---------------------------------------------------------------- batch norm

OpCase batch_norm_case(std::string name, Shape x, bool affine, bool training) {
  const int64_t c = x[1];
  std::vector<InputSpec> in{N(std::move(x))};
  if (affine) {
    in.push_back(N({c}));
    in.push_back(N({c}));
  }
  in.push_back(Frozen({c}));
  in.push_back(FrozenPositive({c}));
  return {std::move(name), std::move(in), [affine, training](const Inputs& t) {
            const size_t r = affine ? 3 : 1;
            return batch_norm2d(t[0], affine ? t[1] : Tensor(), affine ? t[2] : Tensor(),
                                t[r].clone(), t[r + 1].clone(), training);
          }};
}

TEST_F(CudaParity, BatchNormTrainingAndEval) {
  for (bool training : {true, false})
    for (bool affine : {true, false}) {
      expect_parity(batch_norm_case("odd", {3, 5, 7, 9}, affine, training), kBatchNorm);
      expect_parity(batch_norm_case("batch 1", {1, 4, 6, 5}, affine, training), kBatchNorm);
    }
}

// Channels of 12800 values (several chunks per channel) and of 270400 (the
// chunk cap, with a remainder), a channel count beyond one block.
TEST_F(CudaParity, BatchNormLargeChannels) {
  expect_parity(batch_norm_case("4 chunks", {8, 3, 40, 40}, true, true), kBatchNorm);
  expect_parity(batch_norm_case("64 chunks", {16, 2, 130, 130}, true, true), kBatchNorm);
  expect_parity(batch_norm_case("300 channels", {2, 300, 3, 3}, true, true), kBatchNorm);
}

TEST_F(CudaParity, BatchNormEvalOnAnEmptyBatch) {
  expect_parity(batch_norm_case("empty eval", {0, 3, 4, 4}, true, false), kBatchNorm);
}

// The fused op: residual and ReLU on the CPU and CUDA kernels, every
// gradient (x, weight, bias, residual).
OpCase batch_norm_relu_case(std::string name, Shape x, bool affine, bool residual, bool training) {
  const int64_t c = x[1];
  std::vector<InputSpec> in{N(x)};
  if (affine) {
    in.push_back(N({c}));
    in.push_back(N({c}));
  }
  in.push_back(Frozen({c}));
  in.push_back(FrozenPositive({c}));
  if (residual) in.push_back(N(x));
  return {std::move(name), std::move(in), [affine, residual, training](const Inputs& t) {
            const size_t r = affine ? 3 : 1;
            return batch_norm2d_relu(t[0], affine ? t[1] : Tensor(), affine ? t[2] : Tensor(),
                                     t[r].clone(), t[r + 1].clone(), training, 0.1, 1e-5,
                                     residual ? t[r + 2] : Tensor());
          }};
}

TEST_F(CudaParity, BatchNormReluTrainingAndEval) {
  for (bool training : {true, false})
    for (bool residual : {true, false})
      for (bool affine : {true, false}) {
        SCOPED_TRACE(detail::concat(training ? "training" : "eval",
                                    residual ? " residual" : " no residual",
                                    affine ? " affine" : " no affine"));
        expect_parity(batch_norm_relu_case("odd", {3, 5, 7, 9}, affine, residual, training),
                      kBatchNorm);
        expect_parity(batch_norm_relu_case("batch 1", {1, 4, 6, 5}, affine, residual, training),
                      kBatchNorm);
      }
}

// Several sum chunks per channel and the 64-chunk cap, channels beyond one
// block, a ResNet-50 layer1 shape, and an empty batch in eval.
TEST_F(CudaParity, BatchNormReluLargeAndEmpty) {
  for (bool residual : {true, false}) {
    SCOPED_TRACE(residual ? "residual" : "no residual");
    expect_parity(batch_norm_relu_case("4 chunks", {8, 3, 40, 40}, true, residual, true),
                  kBatchNorm);
    expect_parity(batch_norm_relu_case("64 chunks", {16, 2, 130, 130}, true, residual, true),
                  kBatchNorm);
    expect_parity(batch_norm_relu_case("300 channels", {2, 300, 3, 3}, true, residual, true),
                  kBatchNorm);
    expect_parity(batch_norm_relu_case("resnet50 layer1", {2, 256, 28, 28}, true, residual, false),
                  kBatchNorm);
    expect_parity(batch_norm_relu_case("empty eval", {0, 3, 4, 4}, true, residual, false),
                  kBatchNorm);
  }
}

// Channels-last activations reach batch norm as [rows, C, 1, 1]: the sums'
// row kernel (32 channels per block, lanes of rows), with channel counts
// that do and do not fill its 32 columns, one chunk and many.
TEST_F(CudaParity, BatchNormReluOverChannelRows) {
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    expect_parity(batch_norm_relu_case("70 channels", {300, 70, 1, 1}, true, true, training),
                  kBatchNorm);
    expect_parity(batch_norm_relu_case("64 chunks", {300000, 32, 1, 1}, true, false, training),
                  kBatchNorm);
  }
}

// More elements than one grid of 65535 blocks of 256 threads covers (17.3M),
// so the apply and dx grid-stride loops take a second round; f64 (see the
// ReLU hazard above).
TEST_F(CudaParity, BatchNormReluBeyondOneGrid) {
  test::expect_cuda_parity(
      batch_norm_relu_case("beyond one grid", {4, 64, 260, 260}, true, true, true), DType::f64,
      kBatchNorm.f64, kBatchNorm.f64);
}

// On the device too the fused op equals the composite it replaces bit for
// bit (same per-element functions, same sum order): output, running
// statistics and every gradient, training and eval.
TEST_F(CudaParity, BatchNormReluEqualsTheCompositeOnTheDevice) {
  const Device gpu = Device::cuda(0);
  for (DType dtype : {DType::f32, DType::f64})
    for (bool training : {true, false})
      for (const Shape& shape : {Shape{8, 3, 40, 40}, Shape{2, 300, 3, 3}}) {
        SCOPED_TRACE(detail::concat(dtype_name(dtype), training ? " training " : " eval ",
                                    shape_str(shape)));
        Generator gen(5);
        const int64_t c = shape[1];
        auto leaf = [&](const Shape& s) { return randn(s, dtype, &gen).to(gpu).requires_grad_(); };
        const Tensor x = leaf(shape), w = leaf({c}), b = leaf({c}), r = leaf(shape);
        const Tensor mean0 = randn({c}, dtype, &gen).to(gpu);
        const Tensor var0 = (rand({c}, dtype, &gen) + 0.5).to(gpu);
        const Tensor up = randn(shape, dtype, &gen).to(gpu);
        std::vector<Tensor> got, want;
        for (bool fused : {true, false}) {
          for (const Tensor* t : {&x, &w, &b, &r}) t->zero_grad();
          const Tensor rm = mean0.clone(), rv = var0.clone();
          const Tensor y = fused ? batch_norm2d_relu(x, w, b, rm, rv, training, 0.1, 1e-5, r)
                                 : relu(add(batch_norm2d(x, w, b, rm, rv, training), r));
          y.backward(up);
          std::vector<Tensor>& out = fused ? got : want;
          out = {y, rm, rv, x.grad(), w.grad(), b.grad(), r.grad()};
        }
        const char* names[] = {"output", "running_mean", "running_var",  "x grad",
                               "w grad", "b grad",       "residual grad"};
        for (size_t i = 0; i < got.size(); ++i)
          test::expect_matches_cpu(got[i], want[i].to(Device::cpu()), {0, 0}, names[i]);
      }
}

// The running statistics after training steps, the step counter, the
// parameter gradients, then the eval and frozen outputs: the layer on both
// devices, through forward() and through the fused forward_relu(x, residual).
TEST_F(CudaParity, BatchNormLayerRunningStatisticsMatch) {
  for (const bool fused : {false, true})
    for (DType dtype : {DType::f32, DType::f64}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + (fused ? " forward_relu" : " forward"));
      const Tolerance tol = dtype == DType::f32 ? kBatchNorm.f32 : kBatchNorm.f64;
      const auto run = [fused](nn::BatchNorm2d& bn, const Tensor& x, const Tensor& residual) {
        return fused ? bn.forward_relu(x, residual) : bn.forward(x);
      };
      const auto on_gpu = [](const Tensor& t) { return t.to(Device::cuda(0)); };
      nn::BatchNorm2d cpu_bn(4, 1e-5, 0.3), gpu_bn(4, 1e-5, 0.3);
      cpu_bn.to(dtype);
      gpu_bn.to(dtype);
      gpu_bn.to(Device::cuda(0));
      Generator gen(7);
      for (int step = 0; step < 3; ++step) {
        Tensor x = randn({5, 4, 6, 7}, dtype, &gen) * 2.0 + 0.5;
        Tensor r = randn({5, 4, 6, 7}, dtype, &gen);
        Tensor up = randn({5, 4, 6, 7}, dtype, &gen);
        run(cpu_bn, x, r).backward(up);
        run(gpu_bn, on_gpu(x), on_gpu(r)).backward(on_gpu(up));
      }
      test::expect_matches_cpu(gpu_bn.running_mean, cpu_bn.running_mean, tol, "running_mean");
      test::expect_matches_cpu(gpu_bn.running_var, cpu_bn.running_var, tol, "running_var");
      EXPECT_EQ(gpu_bn.num_batches_tracked.item(), 3);
      EXPECT_EQ(cpu_bn.num_batches_tracked.item(), 3);
      test::expect_matches_cpu(gpu_bn.weight.grad(), cpu_bn.weight.grad(), tol, "weight grad");
      test::expect_matches_cpu(gpu_bn.bias.grad(), cpu_bn.bias.grad(), tol, "bias grad");

      Tensor x = randn({2, 4, 3, 3}, dtype, &gen), r = randn({2, 4, 3, 3}, dtype, &gen);
      cpu_bn.eval();
      gpu_bn.eval();
      test::expect_matches_cpu(run(gpu_bn, on_gpu(x), on_gpu(r)), run(cpu_bn, x, r), tol, "eval");
      cpu_bn.train();
      gpu_bn.train();
      cpu_bn.set_frozen(true);
      gpu_bn.set_frozen(true);
      test::expect_matches_cpu(run(gpu_bn, on_gpu(x), on_gpu(r)), run(cpu_bn, x, r), tol, "frozen");
      test::expect_matches_cpu(gpu_bn.running_mean, cpu_bn.running_mean, tol,
                               "frozen running_mean");
      EXPECT_EQ(gpu_bn.num_batches_tracked.item(), 3);
    }
}

// ---------------------------------------------------------------- channels last

TEST_F(CudaParity, ConvChannelsLast) {
  const auto nhwc_case = [](std::string name, Shape x, Shape w, Conv2dOptions o) {
    return OpCase{std::move(name), {N(std::move(x)), N(std::move(w))}, [o](const Inputs& t) {
                    return conv2d_channels_last(t[0], t[1], {}, o);
                  }};
  };
  expect_parity(nhwc_case("stem", {2, 29, 31, 3}, {8, 3, 7, 7}, Conv2dOptions::square(2, 3)),
                kConv);
  expect_parity(nhwc_case("3x3", {3, 14, 14, 16}, {16, 16, 3, 3}, Conv2dOptions::square(1, 1)),
                kConv);
  expect_parity(nhwc_case("1x1 stride 2", {2, 9, 9, 8}, {16, 8, 1, 1}, Conv2dOptions::square(2, 0)),
                kConv);
  expect_parity(
      nhwc_case("groups 4", {2, 7, 7, 8}, {8, 2, 3, 3}, Conv2dOptions::square(1, 1, 1, 4)), kConv);
}

// Whole ResNets (basic blocks; bottleneck with the 7x7 stem and max pool)
// with channels-last activations on the GPU against the CPU's NCHW run,
// training mode: output and every parameter gradient. f64 (NCHW convolutions
// between permutes on CUDA too; the batch norms' row sums): within 1e-9 of
// each tensor's scale, f64 reordering error being ~1e-14. f32 (cuDNN's NHWC
// convolutions): within 1e-3 of the scale, cuDNN's and our GEMMs' f32
// rounding (~1e-6 relative per layer) carried through ten layers and the
// backward. A layout slip is off by O(1) either way.
TEST_F(CudaParity, ResNetChannelsLastMatchesTheCpu) {
  nn::ResNetConfig basic = nn::resnet_config("small_resnet10");
  basic.num_classes = 5;
  const test::AutocastResNetCase bottleneck = test::tiny_bottleneck_case();
  for (const DType dtype : {DType::f64, DType::f32})
    for (const auto& [config, input] :
         {std::pair{basic, Shape{3, 3, 12, 12}}, std::pair{bottleneck.config, bottleneck.input}}) {
      SCOPED_TRACE(dtype_name(dtype));
      manual_seed(3);
      auto cpu_net = nn::make_resnet(config);
      manual_seed(3);
      auto gpu_net = nn::make_resnet(config);
      cpu_net->to(dtype);
      gpu_net->to(dtype);
      gpu_net->to(Device::cuda(0));
      gpu_net->set_channels_last(true);
      Generator gen(4);
      const Tensor x = randn(input, dtype, &gen);
      const Tensor want = cpu_net->forward(x), got = gpu_net->forward(x.to(Device::cuda(0)));
      const double rel = dtype == DType::f64 ? 1e-9 : 1e-3;
      const auto bound = [rel](const Tensor& t) { return Tolerance{rel * test::max_abs(t), rel}; };
      test::expect_matches_cpu(got, want, bound(want), "output");
      sum(mul(want, want)).backward();
      sum(mul(got, got)).backward();
      const auto a = cpu_net->named_parameters(), b = gpu_net->named_parameters();
      for (size_t i = 0; i < a.size(); ++i)
        test::expect_matches_cpu(b[i].second.grad(), a[i].second.grad(), bound(a[i].second.grad()),
                                 "gradient of " + a[i].first);
    }
}

// ---------------------------------------------------------------- pooling

OpCase pool_case(std::string name, Shape x, std::function<Tensor(const Tensor&)> pool) {
  return {std::move(name), {N(std::move(x))}, [pool](const Inputs& t) { return pool(t[0]); }};
}

TEST_F(CudaParity, PoolResNetShapesAndOverlappingWindows) {
  expect_parity(pool_case("max 3x3 s2 p1", {2, 8, 15, 17},
                          [](const Tensor& x) { return max_pool2d(x, 3, 2, 1); }),
                kPool);
  expect_parity(pool_case("max 3x3 s1 (overlap 2)", {1, 3, 9, 8},
                          [](const Tensor& x) { return max_pool2d(x, 3, 1); }),
                kPool);
  expect_parity(pool_case("avg 3x3 s1 p1", {2, 3, 7, 6},
                          [](const Tensor& x) { return avg_pool2d(x, 3, 1, 1); }),
                kPool);
  expect_parity(pool_case("avg 4 s3 p2", {1, 2, 11, 13},
                          [](const Tensor& x) { return avg_pool2d(x, 4, 3, 2); }),
                kPool);
  expect_parity(pool_case("global avg (ResNet head)", {3, 16, 7, 7},
                          [](const Tensor& x) { return adaptive_avg_pool2d(x, 1, 1); }),
                kPool);
}

// Adaptive windows of uneven length, and more outputs than inputs (each
// input in several windows).
TEST_F(CudaParity, AdaptivePoolingUnevenAndUpsampling) {
  expect_parity(pool_case("avg 13x10 -> 4x3", {2, 3, 13, 10},
                          [](const Tensor& x) { return adaptive_avg_pool2d(x, 4, 3); }),
                kPool);
  expect_parity(pool_case("max 13x10 -> 5x7", {2, 3, 13, 10},
                          [](const Tensor& x) { return adaptive_max_pool2d(x, 5, 7); }),
                kPool);
  expect_parity(pool_case("avg 3x4 -> 7x9", {1, 2, 3, 4},
                          [](const Tensor& x) { return adaptive_avg_pool2d(x, 7, 9); }),
                kPool);
  expect_parity(pool_case("max 3x4 -> 7x9", {1, 2, 3, 4},
                          [](const Tensor& x) { return adaptive_max_pool2d(x, 7, 9); }),
                kPool);
}

// The channels-last max pool (a ResNet stem's in an NHWC backbone): threads
// walk NHWC memory order, each window read C elements apart.
TEST_F(CudaParity, MaxPoolChannelsLast) {
  expect_parity(pool_case("3x3 s2 p1 NHWC", {2, 15, 17, 8},
                          [](const Tensor& x) { return max_pool2d_channels_last(x, 3, 2, 1); }),
                kPool);
  expect_parity(pool_case("3x3 s1 NHWC, 3 channels", {1, 9, 8, 3},
                          [](const Tensor& x) { return max_pool2d_channels_last(x, 3, 1); }),
                kPool);
  expect_parity(pool_case("empty batch NHWC", {0, 7, 7, 4},
                          [](const Tensor& x) { return max_pool2d_channels_last(x, 3, 2); }),
                kPool);
  // Ties land the gradient on the same element as the CPU's.
  std::vector<float> v(2 * 9 * 9 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 7) % 3);
  Tensor cpu_x = from_vector(v, {2, 9, 9, 5}).requires_grad_();
  Tensor gpu_x = from_vector(v, {2, 9, 9, 5}).to(Device::cuda(0)).requires_grad_();
  Tensor up = randn({2, 4, 4, 5});
  max_pool2d_channels_last(cpu_x, 3, 2).backward(up);
  max_pool2d_channels_last(gpu_x, 3, 2).backward(up.to(Device::cuda(0)));
  test::expect_matches_cpu(gpu_x.grad(), cpu_x.grad(), kPool.f32, "gradient");
}

TEST_F(CudaParity, PoolingAnEmptyBatch) {
  expect_parity(pool_case("max", {0, 3, 7, 7}, [](const Tensor& x) { return max_pool2d(x, 3, 2); }),
                kPool);
  expect_parity(
      pool_case("avg", {0, 3, 7, 7}, [](const Tensor& x) { return adaptive_avg_pool2d(x, 2, 2); }),
      kPool);
}

// Ties: the first maximum in scan order wins on both devices, so the
// gradient lands on the same element. Values from {0, 1, 2}, many windows tie.
TEST_F(CudaParity, MaxPoolTiesPickTheSameElement) {
  std::vector<float> v(2 * 3 * 9 * 9);
  for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 7) % 3);
  Tensor cpu_x = from_vector(v, {2, 3, 9, 9}).requires_grad_();
  Tensor gpu_x = from_vector(v, {2, 3, 9, 9}).to(Device::cuda(0)).requires_grad_();
  Tensor up = randn({2, 3, 4, 4});
  max_pool2d(cpu_x, 3, 2).backward(up);
  max_pool2d(gpu_x, 3, 2).backward(up.to(Device::cuda(0)));
  test::expect_matches_cpu(gpu_x.grad(), cpu_x.grad(), kPool.f32, "gradient");
}

// More elements than one grid of 65535 blocks of 256 threads covers, so the
// grid-stride loops take a second round (f32 only; 17M elements).
TEST_F(CudaParity, PoolingBeyondOneGrid) {
  test::expect_cuda_parity(
      pool_case("max", {4, 64, 260, 260}, [](const Tensor& x) { return max_pool2d(x, 2, 2); }),
      DType::f32, kPool.f32, kPool.f32);
}

// ---------------------------------------------------------------- together

// A ResNet stem and block on both devices: conv, batch norm (training),
// ReLU, max pool, conv, global average pool; every gradient.
TEST_F(CudaParity, ResNetStemEndToEnd) {
  OpCase c{"stem",
           {N({2, 3, 32, 32}), N({8, 3, 7, 7}), N({8}), N({8}), Frozen({8}), FrozenPositive({8}),
            N({8, 8, 3, 3})},
           [](const Inputs& t) {
             Tensor h = conv2d(t[0], t[1], {}, Conv2dOptions::square(2, 3));
             h = relu(batch_norm2d(h, t[2], t[3], t[4].clone(), t[5].clone(), true));
             h = max_pool2d(h, 3, 2, 1);
             h = conv2d(h, t[6], {}, Conv2dOptions::square(1, 1));
             return adaptive_avg_pool2d(h, 1, 1);
           }};
  // Errors of the convolutions pass through batch norm's 1 / std (~1/12 here)
  // and back: the conv bound holds for the chain.
  expect_parity(c, kConv);
}

// ---------------------------------------------------------------- host only

// The cache key holds every field of the problem (runs without a GPU: it
// only builds keys).
TEST(CudaConvKey, EveryFieldOfTheProblemIsPartOfTheKey) {
  const kernels::ConvShape base{2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  const cuda::ConvProblem key = cuda::conv_problem<float>(base, cuda::ConvPass::forward, 0);
  EXPECT_EQ(key, cuda::conv_problem<float>(base, cuda::ConvPass::forward, 0));
  int64_t kernels::ConvShape::*fields[] = {
      &kernels::ConvShape::n,     &kernels::ConvShape::c,        &kernels::ConvShape::h,
      &kernels::ConvShape::w,     &kernels::ConvShape::o,        &kernels::ConvShape::kh,
      &kernels::ConvShape::kw,    &kernels::ConvShape::stride_h, &kernels::ConvShape::stride_w,
      &kernels::ConvShape::pad_h, &kernels::ConvShape::pad_w,    &kernels::ConvShape::dil_h,
      &kernels::ConvShape::dil_w, &kernels::ConvShape::groups};
  for (size_t i = 0; i < std::size(fields); ++i) {
    kernels::ConvShape changed = base;
    changed.*fields[i] += 1;
    EXPECT_NE(cuda::conv_problem<float>(changed, cuda::ConvPass::forward, 0), key) << "field " << i;
  }
  EXPECT_NE(cuda::conv_problem<float>(base, cuda::ConvPass::backward_data, 0), key);
  EXPECT_NE(cuda::conv_problem<float>(base, cuda::ConvPass::backward_filter, 0), key);
  EXPECT_NE(cuda::conv_problem<float>(base, cuda::ConvPass::forward, 1), key);
  EXPECT_NE(cuda::conv_problem<double>(base, cuda::ConvPass::forward, 0), key);
}

// The TF32 switch changes the math type of f32 problems (FMA only while off)
// and leaves f64 problems alone.
TEST(CudaConvKey, Tf32SwitchIsPartOfTheF32Key) {
  const kernels::ConvShape s{1, 2, 5, 5, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1};
  const bool before = cuda::allow_tf32();
  cuda::set_allow_tf32(false);
  const cuda::ConvProblem f32_off = cuda::conv_problem<float>(s, cuda::ConvPass::forward, 0);
  const cuda::ConvProblem f64_off = cuda::conv_problem<double>(s, cuda::ConvPass::forward, 0);
  cuda::set_allow_tf32(true);
  const cuda::ConvProblem f32_on = cuda::conv_problem<float>(s, cuda::ConvPass::forward, 0);
  const cuda::ConvProblem f64_on = cuda::conv_problem<double>(s, cuda::ConvPass::forward, 0);
  cuda::set_allow_tf32(before);
  EXPECT_EQ(f32_off.math_type, int(CUDNN_FMA_MATH));
  EXPECT_NE(f32_on, f32_off);
  EXPECT_EQ(f64_on, f64_off);
}

// Pooling axes of every kind: fixed windows with and without overlap,
// padding, a last window cut short; adaptive windows shrinking, uneven and
// growing (each input in several windows).
std::vector<kernels::PoolAxis> pool_axes() {
  std::vector<kernels::PoolAxis> axes;
  for (int64_t in = 1; in <= 11; ++in) {
    for (int64_t k = 1; k <= 5; ++k)
      for (int64_t st = 1; st <= 4; ++st)
        for (int64_t pad = 0; 2 * pad <= k; ++pad)
          if (in + 2 * pad >= k)
            axes.push_back(kernels::fixed_axis(in, (in + 2 * pad - k) / st + 1, k, st, pad));
    for (int64_t out = 1; out <= 13; ++out) axes.push_back(kernels::adaptive_axis(in, out));
  }
  return axes;
}

// outputs_near bounds every output whose window holds an input (host only).
TEST(PoolWindow, OutputsNearCoverEveryWindowHoldingTheInput) {
  for (const kernels::PoolAxis& a : pool_axes())
    for (int64_t i = 0; i < a.in; ++i) {
      const kernels::OutputRange r = kernels::outputs_near(a, i);
      for (int64_t o = 0; o < a.out; ++o) {
        if (!kernels::window_holds(kernels::pool_window(a, o), i)) continue;
        EXPECT_TRUE(r.first <= o && o <= r.last)
            << "in " << a.in << " out " << a.out << " kernel " << a.kernel << " stride " << a.stride
            << " pad " << a.pad << ": output " << o << " holds input " << i << " but the range is ["
            << r.first << ", " << r.last << "]";
      }
    }
}

// The CUDA pool kernels find an element's plane and position with locate():
// it inverts base() + r * step() over every element, in both layouts.
TEST(PoolWindow, PoolPlanesLocateInvertsBase) {
  for (const kernels::PoolPlanes planes :
       {kernels::PoolPlanes::nchw(6), kernels::PoolPlanes{6, 3, true},
        kernels::PoolPlanes{4, 1, true}}) {
    const int64_t hw = 10;
    std::vector<int> seen(size_t(planes.count * hw), 0);
    for (int64_t e = 0; e < planes.count * hw; ++e) {
      int64_t p, r;
      planes.locate(e, hw, &p, &r);
      ASSERT_TRUE(0 <= p && p < planes.count && 0 <= r && r < hw) << e;
      EXPECT_EQ(planes.base(p, hw) + r * planes.step(), e);
      ++seen[size_t(p * hw + r)];
    }
    for (int n : seen) EXPECT_EQ(n, 1);
  }
}

// The CUDA backward's per-element gather, run on the host, equals the CPU
// backward's scatter bit for bit, for average and max pooling, and for max
// pooling over channels-last planes (2 images x 3 channels).
TEST(PoolWindow, GatheredGradientEqualsTheCpuScatter) {
  const std::vector<kernels::PoolAxis> axes = pool_axes();
  const kernels::PoolAxis other = kernels::fixed_axis(7, 3, 3, 2, 1);
  Generator gen(3);
  int checked = 0;
  for (const kernels::PoolPlanes planes :
       {kernels::PoolPlanes::nchw(6), kernels::PoolPlanes{6, 3, true}})
    for (const kernels::PoolAxis& a : axes)
      for (bool a_is_y : {true, false}) {
        const kernels::PoolAxis ay = a_is_y ? a : other, ax = a_is_y ? other : a;
        const int64_t in_hw = ay.in * ax.in, out_hw = ay.out * ax.out, step = planes.step();
        const std::vector<double> x =
            randn({planes.count * in_hw}, DType::f64, &gen).to_vector<double>();
        const std::vector<double> g =
            randn({planes.count * out_hw}, DType::f64, &gen).to_vector<double>();
        std::vector<double> y(size_t(planes.count * out_hw)), dx(size_t(planes.count * in_hw));
        std::vector<int64_t> argmax(size_t(planes.count * out_hw));
        cpu::max_pool2d_forward<double>(x.data(), planes, ay, ax, y.data(), argmax.data());
        for (bool max : {false, true}) {
          if (!max && planes.channels_last) continue;  // average pooling is NCHW only
          if (max)
            cpu::max_pool2d_backward<double>(g.data(), argmax.data(), planes, ay, ax, dx.data());
          else
            cpu::avg_pool2d_backward<double>(g.data(), planes.count, ay, ax, dx.data());
          for (int64_t p = 0; p < planes.count; ++p)
            for (int64_t iy = 0; iy < ay.in; ++iy)
              for (int64_t ix = 0; ix < ax.in; ++ix) {
                const int64_t out = planes.base(p, out_hw);
                const double got = kernels::gathered_gradient(
                    g.data() + out, max ? argmax.data() + out : nullptr, ay, ax, iy, ix, step);
                ASSERT_EQ(got, dx[size_t(planes.base(p, in_hw) + (iy * ax.in + ix) * step)])
                    << (max ? "max" : "avg") << " in " << a.in << " out " << a.out << " kernel "
                    << a.kernel << " stride " << a.stride << " pad " << a.pad
                    << (planes.channels_last ? " channels-last" : "");
              }
          ++checked;
        }
      }
  EXPECT_GT(checked, 1000);
}

}  // namespace
}  // namespace dml
