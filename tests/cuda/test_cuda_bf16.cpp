// bf16 conv2d (cuDNN, BFLOAT16 tensors with f32 compute), matmul and linear
// (cublasGemmEx / cublasGemmStridedBatchedEx, CUDA_R_16BF with
// CUBLAS_COMPUTE_32F) on CUDA against the CPU's bf16 results
// (tests/support/cuda_parity.h), forward and every gradient; autocast layers and a
// small ResNet under autocast on CUDA. Skipped where no GPU is present,
// except the algorithm-cache key test, which needs none.
//
// Bound: 2 bf16 ulps of the largest magnitude of the reference,
// |cuda - cpu| <= 2^-6 * max|cpu| for every element. Both backends round the
// same exact products (bf16 operands are exact in f32) summed in f32, once,
// to bf16: the CPU (kernels/cpu/bf16_widen.h) in its GEMM's order, cuDNN and
// cuBLAS in theirs (tensor-core tiles, split-K reductions kept in f32). The
// two f32 sums differ by at most about K * 2^-24 * sum|a_i b_i|, far below a
// bf16 ulp of the output's scale for the K here (<= 600), so the rounded
// results differ by at most one ulp of the element (when the sums straddle a
// rounding boundary), plus that sliver; an ulp of an element is at most 2^-7
// times it, so 2^-7 * max|cpu| covers it, and the bound doubles that for
// margin. Bounding against the largest element rather than each element
// covers elements near zero, where the f32 sums' difference is larger than
// the element's own ulp. A wrong index, stride or transpose is off by O(max),
// and an unwritten element is NaN (poisoned allocations).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/autocast.h"
#include "engine/channels_last.h"
#include "engine/ops.h"
#include "kernels/cuda/blas.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda_runtime/dnn.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;
using test::Inputs;
using test::Tolerance;

const Device kGpu = Device::cuda(0);

// 2 bf16 ulps of the reference's largest magnitude (see the header).
Tolerance two_ulps_of_max(const Tensor& reference) {
  return {std::ldexp(test::max_abs(reference), -6), 0};
}

// A leaf of the given shape: N(0, 1) rounded to bf16, on the CPU.
Tensor bf16_input(const Shape& shape, bool grad, Generator& gen) {
  Tensor t = randn(shape, DType::f32, &gen).to(DType::bf16);
  if (grad) t.requires_grad_();
  return t;
}

// fn on bf16 inputs on the CPU and on cuda:0: the output, then every
// gradient for one bf16 upstream gradient. `grad[i]`: input i takes one.
void expect_bf16_parity(const std::vector<Shape>& shapes, const std::vector<bool>& grad,
                        const std::function<Tensor(const Inputs&)>& fn, uint64_t seed = 1) {
  Generator gen(seed);
  Inputs cpu;
  for (size_t i = 0; i < shapes.size(); ++i) cpu.push_back(bf16_input(shapes[i], grad[i], gen));
  const test::ParityInputs in = test::to_parity_inputs(cpu);
  Tensor want = fn(in.cpu), got = fn(in.cuda);
  ASSERT_EQ(want.dtype(), DType::bf16);
  test::expect_matches_cpu(got, want, two_ulps_of_max(want), "output");
  Tensor up = randn(want.shape(), DType::f32, &gen).to(DType::bf16);
  want.backward(up);
  got.backward(up.to(kGpu));
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!grad[i]) continue;
    const Tensor& reference = in.cpu[i].grad();
    ASSERT_TRUE(reference.defined()) << "input " << i;
    test::expect_matches_cpu(in.cuda[i].grad(), reference, two_ulps_of_max(reference),
                             detail::concat("gradient of input ", i, " ", shape_str(shapes[i])));
  }
}

std::function<Tensor(const Inputs&)> conv_fn(Conv2dOptions o) {
  return [o](const Inputs& t) { return conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), o); };
}

// ---------------------------------------------------------------- conv2d

TEST_F(CudaParity, Bf16ConvResNetShapes) {
  {
    SCOPED_TRACE("7x7 stride-2 stem with bias");
    expect_bf16_parity({{2, 3, 23, 21}, {8, 3, 7, 7}, {8}}, {true, true, true},
                       conv_fn(Conv2dOptions::square(2, 3)));
  }
  {
    SCOPED_TRACE("3x3 same padding");
    expect_bf16_parity({{3, 16, 9, 9}, {16, 16, 3, 3}}, {true, true},
                       conv_fn(Conv2dOptions::square(1, 1)));
  }
  {
    SCOPED_TRACE("1x1 stride-2 downsample");
    expect_bf16_parity({{2, 16, 8, 8}, {32, 16, 1, 1}}, {true, true},
                       conv_fn(Conv2dOptions::square(2, 0)));
  }
}

TEST_F(CudaParity, Bf16ConvOddSizesGroupsAndDilation) {
  const std::vector<bool> all{true, true, true};
  expect_bf16_parity({{2, 6, 11, 8}, {9, 2, 3, 2}, {9}}, all, conv_fn({2, 1, 1, 2, 2, 1, 3}));
  expect_bf16_parity({{2, 8, 7, 5}, {8, 1, 3, 3}, {8}}, all,
                     conv_fn(Conv2dOptions::square(1, 1, 1, 8)));  // depthwise
  expect_bf16_parity({{1, 5, 13, 7}, {3, 5, 5, 3}, {3}}, all, conv_fn({1, 2, 2, 0, 2, 1, 1}));
}

// The bias gradient (conv_bias.cu's channel sums) over more elements per
// channel than one block has threads, and the broadcast bias over a grid.
TEST_F(CudaParity, Bf16ConvBiasOverManyElements) {
  expect_bf16_parity({{3, 4, 40, 37}, {5, 4, 3, 3}, {5}}, {true, true, true},
                     conv_fn(Conv2dOptions::square(1, 1)));
}

TEST_F(CudaParity, Bf16ConvGradientOfOneOperandAndEmptyBatch) {
  const auto fn = conv_fn(Conv2dOptions::square(1, 1));
  const std::vector<Shape> shapes{{2, 3, 6, 6}, {4, 3, 3, 3}, {4}};
  expect_bf16_parity(shapes, {false, true, true}, fn);
  expect_bf16_parity(shapes, {true, false, true}, fn);
  expect_bf16_parity(shapes, {false, false, true}, fn);
  expect_bf16_parity({{0, 3, 6, 6}, {4, 3, 3, 3}, {4}}, {true, true, true}, fn);
}

// Channels-last (NHWC) convolutions: cuDNN's NHWC descriptors and the
// weight's [O, KH, KW, C / g] copy against the CPU's NCHW between permutes.
TEST_F(CudaParity, Bf16ConvChannelsLast) {
  const auto fn = [](Conv2dOptions o) {
    return [o](const Inputs& t) { return conv2d_channels_last(t[0], t[1], {}, o); };
  };
  expect_bf16_parity({{2, 23, 21, 3}, {8, 3, 7, 7}}, {true, true}, fn(Conv2dOptions::square(2, 3)));
  expect_bf16_parity({{3, 9, 9, 16}, {16, 16, 3, 3}}, {true, true},
                     fn(Conv2dOptions::square(1, 1)));
  expect_bf16_parity({{2, 8, 8, 16}, {32, 16, 1, 1}}, {true, true},
                     fn(Conv2dOptions::square(2, 0)));
}

// ---------------------------------------------------------------- GEMMs

TEST_F(CudaParity, Bf16Matmul) {
  const auto mm = [](const Inputs& t) { return matmul(t[0], t[1]); };
  expect_bf16_parity({{7, 33}, {33, 5}}, {true, true}, mm);
  expect_bf16_parity({{4, 7, 33}, {4, 33, 5}}, {true, true}, mm);  // strided batches
  expect_bf16_parity({{7, 33}, {4, 33, 5}}, {true, true}, mm);     // a shared: stride 0
  expect_bf16_parity({{4, 7, 33}, {33, 5}}, {true, true}, mm);     // one GEMM over 28 rows
  // Past one tile in every dimension, none a multiple of 8 (unaligned rows).
  expect_bf16_parity({{130, 257}, {257, 67}}, {true, true}, mm);
  expect_bf16_parity({{3, 0}, {0, 4}}, {true, true}, mm);  // k = 0: zeros
  expect_bf16_parity({{0, 5}, {5, 4}}, {true, true}, mm);  // no rows
}

TEST_F(CudaParity, Bf16Linear) {
  const auto lin = [](const Inputs& t) {
    return t.size() == 3 ? linear(t[0], t[1], t[2]) : linear(t[0], t[1]);
  };
  expect_bf16_parity({{10, 33}, {7, 33}, {7}}, {true, true, true}, lin);
  expect_bf16_parity({{10, 33}, {7, 33}}, {true, true}, lin);
  expect_bf16_parity({{2, 5, 33}, {7, 33}, {7}}, {true, true, true}, lin);
  expect_bf16_parity({{300, 129}, {65, 129}, {65}}, {true, true, true}, lin);
  expect_bf16_parity({{10, 33}, {7, 33}, {7}}, {false, false, true}, lin);
}

// ---------------------------------------------------------------- autocast

// A layer under autocast on CUDA against the same layer under autocast on the
// CPU: the f32 output and the f32 master weights' gradients.
void expect_autocast_layer_parity(nn::Module& layer, const Shape& x_shape) {
  Generator gen(4);
  const Tensor x = randn(x_shape, DType::f32, &gen);
  auto forward = [&](Device d) {
    layer.to(d);
    layer.zero_grad();
    AutocastGuard guard(DType::bf16);
    return layer.forward(x.to(d));
  };
  auto gradients = [&] {
    std::vector<Tensor> grads;
    for (const auto& [name, p] : layer.named_parameters())
      grads.push_back(p.grad().to(Device::cpu()));
    return grads;
  };
  const Tensor want = forward(Device::cpu());
  const Tensor up = randn(want.shape(), DType::f32, &gen);
  want.backward(up);
  const std::vector<Tensor> want_grads = gradients();
  const Tensor got = forward(kGpu);
  got.backward(up.to(kGpu));
  const std::vector<Tensor> got_grads = gradients();
  EXPECT_EQ(got.dtype(), DType::f32);
  test::expect_matches_cpu(got, want, two_ulps_of_max(want), "output");
  for (size_t i = 0; i < want_grads.size(); ++i) {
    EXPECT_EQ(got_grads[i].dtype(), DType::f32);
    EXPECT_TRUE(test::all_close(got_grads[i], want_grads[i], two_ulps_of_max(want_grads[i])))
        << "gradient of parameter " << i;
  }
}

TEST_F(CudaParity, Bf16AutocastLayers) {
  manual_seed(3);
  nn::Conv2d conv({.in_channels = 4, .out_channels = 6, .kernel = 3, .stride = 2, .padding = 1});
  expect_autocast_layer_parity(conv, {2, 4, 9, 9});
  nn::Linear fc(33, 7);
  expect_autocast_layer_parity(fc, {2, 5, 33});
}

TEST_F(CudaParity, Bf16AutocastSmallResNetStaysWithinBf16RoundingOfTheF32Run) {
  test::expect_autocast_resnet_within_bf16_rounding(kGpu);
}

// ---------------------------------------------------------------- host only

// bf16 problems have their own cache entries: the data type and the math
// type (tensor cores) are in the key, and the TF32 switch (an f32 matter)
// leaves them alone. Runs without a GPU: it only builds keys.
TEST(CudaConvKey, Bf16IsPartOfTheKey) {
  const kernels::ConvShape s{2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  const bool before = cuda::allow_tf32();
  for (bool tf32 : {false, true}) {
    cuda::set_allow_tf32(tf32);
    for (cuda::ConvPass pass : {cuda::ConvPass::forward, cuda::ConvPass::backward_data,
                                cuda::ConvPass::backward_filter}) {
      const cuda::ConvProblem b = cuda::conv_problem<bf16>(s, pass, 0);
      EXPECT_EQ(b.data_type, int(CUDNN_DATA_BFLOAT16));
      EXPECT_EQ(b.math_type, int(CUDNN_TENSOR_OP_MATH));
      EXPECT_NE(b, cuda::conv_problem<float>(s, pass, 0));
      EXPECT_NE(b, cuda::conv_problem<double>(s, pass, 0));
    }
  }
  cuda::set_allow_tf32(before);
}

}  // namespace
}  // namespace dml
