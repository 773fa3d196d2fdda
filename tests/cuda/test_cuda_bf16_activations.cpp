// bf16 activations on CUDA against the CPU (tests/support/cuda_parity.h): batch
// norm and the fused batch norm + residual + ReLU on bf16 inputs with f32
// parameters and running statistics, pooling on bf16, and ResNets whose
// backbone keeps bf16 activations under autocast. Skipped without a GPU.
//
// Batch norm bounds. Both backends run the same per-element code
// (kernels/batch_norm_math.h) on the same widened values; only the
// per-channel sums (in double) are added in different orders, so the f32
// statistics and gradient coefficients may differ by about one f32 ulp.
// - y, dx, the residual's gradient (bf16): the f32 values before rounding
//   then differ by a few f32 ulps of the terms they are computed from
//   (x * scale, shift, the residual; dy and the mean terms), at most
//   2^-20 * max|reference| (8 ulps of the largest term, generous); rounded
//   once to bf16, two values that close round to the same bf16 or, when they
//   straddle a rounding boundary, to neighbours one bf16 ulp apart, and an
//   ulp of an element is at most 2^-7 of it. Bound: 2^-20 * max + 2^-7 * |cpu|.
//   A wrong channel, a missed residual or mask is off by O(1).
// - dweight, dbias, running statistics (f32): double sums in another order,
//   rounded to f32 once: 2 f32 ulps (rel 2^-22) plus a sliver near zero.
// Pooling is exact: a maximum is one of the inputs, and the mean and the
// gathered gradients add the same f32 terms in the same order as the CPU
// (kernels/pool_window.h; test_cuda_dnn checks the order).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "engine/autocast.h"
#include "engine/ops.h"
#include "tests/support/autocast_resnet_check.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;
using test::Inputs;
using test::max_abs;
using test::Tolerance;

const Device kGpu = Device::cuda(0);

// bf16 results: a few f32 ulps of the largest term, then one bf16 ulp.
Tolerance bf16_bound(const Tensor& reference) {
  return {std::ldexp(max_abs(reference), -20), std::ldexp(1.0, -7)};
}
// f32 results from double sums in another order.
Tolerance f32_bound(const Tensor& reference) {
  return {std::ldexp(max_abs(reference), -40), std::ldexp(1.0, -22)};
}

// batch_norm2d_relu (relu) or batch_norm2d on bf16 x (and residual) with f32
// parameters on both devices: y, the running statistics after the update,
// then dx, dweight, dbias and the residual's gradient for one bf16 upstream.
void expect_bn_parity(const Shape& shape, bool training, bool relu, bool residual,
                      uint64_t seed = 3) {
  SCOPED_TRACE(detail::concat(shape_str(shape), training ? " training" : " eval",
                              relu ? " fused" : " plain", residual ? " residual" : ""));
  Generator gen(seed);
  const int64_t c = shape[1];
  Inputs cpu{(randn(shape, DType::f32, &gen) * 1.5 + 0.3).to(DType::bf16).requires_grad_(),
             randn({c}, DType::f32, &gen).requires_grad_(),
             randn({c}, DType::f32, &gen).requires_grad_(), randn({c}, DType::f32, &gen) * 0.2,
             rand({c}, DType::f32, &gen) + 0.5};
  if (residual) cpu.push_back(randn(shape, DType::f32, &gen).to(DType::bf16).requires_grad_());
  const test::ParityInputs in = test::to_parity_inputs(cpu);
  auto fn = [&](const Inputs& t) {
    if (relu)
      return batch_norm2d_relu(t[0], t[1], t[2], t[3], t[4], training, 0.1, 1e-5,
                               residual ? t[5] : Tensor());
    return batch_norm2d(t[0], t[1], t[2], t[3], t[4], training, 0.1, 1e-5);
  };
  const Tensor want = fn(in.cpu), got = fn(in.cuda);
  ASSERT_EQ(want.dtype(), DType::bf16);
  test::expect_matches_cpu(got, want, bf16_bound(want), "output");
  for (int i : {3, 4})
    test::expect_matches_cpu(in.cuda[size_t(i)], in.cpu[size_t(i)], f32_bound(in.cpu[size_t(i)]),
                             i == 3 ? "running mean" : "running var");
  if (want.numel() == 0) return;
  const Tensor up = randn(shape, DType::f32, &gen).to(DType::bf16);
  want.backward(up);
  got.backward(up.to(kGpu));
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (!cpu[i].requires_grad()) continue;
    const Tensor& reference = in.cpu[i].grad();
    ASSERT_TRUE(reference.defined()) << "input " << i;
    const Tolerance tol =
        reference.dtype() == DType::bf16 ? bf16_bound(reference) : f32_bound(reference);
    test::expect_matches_cpu(in.cuda[i].grad(), reference, tol,
                             detail::concat("gradient of input ", i));
  }
}

TEST_F(CudaParity, Bf16BatchNormAndFusedOp) {
  for (bool training : {true, false}) {
    expect_bn_parity({3, 5, 7, 6}, training, false, false);
    expect_bn_parity({3, 5, 7, 6}, training, true, false);
    expect_bn_parity({3, 5, 7, 6}, training, true, true);
  }
}

TEST_F(CudaParity, Bf16BatchNormOverManyChunksAndEmpty) {
  // 9800 values per channel: several summing chunks per channel.
  expect_bn_parity({2, 3, 70, 70}, true, true, true);
  expect_bn_parity({2, 3, 70, 70}, true, false, false);
  expect_bn_parity({0, 4, 3, 3}, false, true, true);
}

// Pooling on bf16: bit for bit the CPU's (see the header).
TEST_F(CudaParity, Bf16PoolingIsExact) {
  const std::vector<std::function<Tensor(const Tensor&)>> pools{
      [](const Tensor& x) { return max_pool2d(x, 3, 2, 1); },
      [](const Tensor& x) { return avg_pool2d(x, 3, 2, 1); },
      [](const Tensor& x) { return adaptive_avg_pool2d(x, 1, 1); },
      [](const Tensor& x) { return adaptive_max_pool2d(x, 2, 3); }};
  for (const Shape& shape : {Shape{2, 3, 9, 10}, Shape{1, 2, 300, 301}})
    for (size_t k = 0; k < pools.size(); ++k) {
      SCOPED_TRACE(detail::concat(shape_str(shape), " pool ", k));
      Generator gen(9);
      const test::ParityInputs in =
          test::to_parity_inputs({randn(shape, DType::f32, &gen).to(DType::bf16).requires_grad_()});
      const Tensor want = pools[k](in.cpu[0]), got = pools[k](in.cuda[0]);
      ASSERT_EQ(want.dtype(), DType::bf16);
      test::expect_matches_cpu(got, want, {0, 0}, "output");
      const Tensor up = randn(want.shape(), DType::f32, &gen).to(DType::bf16);
      want.backward(up);
      got.backward(up.to(kGpu));
      test::expect_matches_cpu(in.cuda[0].grad(), in.cpu[0].grad(), {0, 0}, "gradient");
    }
}

// The tiny bottleneck ResNet (7x7 stem, max pool, projected shortcuts) under
// autocast against its f32 run on the device; the bounds:
// tests/support/autocast_resnet_check.h.
TEST_F(CudaParity, Bf16AutocastBottleneckResNetStaysWithinBf16RoundingOfTheF32Run) {
  test::expect_autocast_resnet_within_bf16_rounding(kGpu, test::tiny_bottleneck_case());
}

// The same networks under autocast on CUDA and on the CPU. Each bf16
// rounding site of one run matches the other's, except where their f32 sums
// (convolutions in other orders, batch norm statistics) straddle a rounding
// boundary and the two round one ulp apart - at most the rounding error the
// autocast bounds count, at the same sites. So the CUDA run is within the
// autocast run's own bounds of the CPU one: the output within path_gemms *
// 3u, all the gradients together within sqrt(sites) times the f32
// network's response to rounding its input (measured on the CPU).
void expect_autocast_resnet_cuda_matches_cpu(const test::AutocastResNetCase& c) {
  SCOPED_TRACE(c.name);
  manual_seed(5);
  auto net = nn::make_resnet(c.config);
  Generator gen(11);
  const Tensor x = randn(c.input, DType::f32, &gen);
  const Tensor r = randn({c.input[0], c.config.num_classes}, DType::f32, &gen);
  auto run = [&](Device d, DType compute, const Tensor& input) {
    net->to(d);
    net->zero_grad();
    Tensor y;
    {
      AutocastGuard guard(compute);
      y = net->forward(input.to(d));
    }
    sum(y * r.to(d)).backward();
    std::vector<Tensor> grads;
    for (const auto& [name, p] : net->named_parameters())
      grads.push_back(p.grad().to(Device::cpu()).to(DType::f64).reshape({-1}));
    return std::make_pair(y.detach().to(Device::cpu()).to(DType::f64), concat(grads, 0));
  };
  // Training mode: each run normalises with its batch's statistics, so the
  // running ones the runs update do not enter the results.
  const auto f32 = run(Device::cpu(), DType::f32, x);
  const auto rounded = run(Device::cpu(), DType::f32, x.to(DType::bf16).to(DType::f32));
  const auto cpu = run(Device::cpu(), DType::bf16, x);
  const auto gpu = run(kGpu, DType::bf16, x);
  const double u = std::ldexp(1.0, -9);
  const double out_err = test::relative_difference(gpu.first, cpu.first);
  const double grad_err = test::relative_difference(gpu.second, cpu.second);
  const double grad_round = test::relative_difference(rounded.second, f32.second);
  EXPECT_LT(out_err, c.path_gemms * 3 * u);
  EXPECT_LT(grad_err, std::sqrt(double(c.sites)) * grad_round);
  std::printf("%s autocast CUDA vs CPU: output %.4f, gradients %.4f (rounded input alone: %.4f)\n",
              c.name.c_str(), out_err, grad_err, grad_round);
}

TEST_F(CudaParity, Bf16AutocastResNetsMatchTheCpuWithinBf16Rounding) {
  expect_autocast_resnet_cuda_matches_cpu(test::small_resnet10_case());
  expect_autocast_resnet_cuda_matches_cpu(test::tiny_bottleneck_case());
}

}  // namespace
}  // namespace dml
