// matmul, linear and sum on CUDA against the CPU backend (tests/support/cuda_parity.h),
// forward and backward, in f32 (TF32 off unless a test says otherwise) and
// f64. Skipped where no GPU is present.
//
// Bounds. Inputs and upstream gradients are N(0, 1). A product's element is a
// sum of K terms, and each device's rounding error is at most
// K * u * sum|a_i b_i| (u = 2^-24 in f32, 2^-53 in f64): about
// 40 * u * 26 = 6e-5 (f32) and 1.2e-13 (f64) for K <= 40, the longest
// contraction here (33 features; 20 = 4 batches x 5 columns for a shared
// operand's gradient; 10 rows for a weight gradient). The bounds cover both
// devices' worst cases together. An element a kernel gets wrong (transpose,
// stride, batch) is off by O(1), and one it never writes is NaN.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/cuda/blas.h"
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

constexpr FloatBounds kGemm{{1.5e-4, 1e-5}, {3e-13, 1e-13}};
// Sums of up to 300 values: the CPU adds in order (error about n * u * rms of
// the partial sums, ~2e-5 in f32 for n = 300), the GPU as a tree; 20x margin.
constexpr FloatBounds kSum{{4e-4, 1e-5}, {1e-12, 1e-13}};
// TF32 rounds each input to 10 mantissa bits (u = 2^-11): a product's error is
// at most 2 * u * sum|a_i b_i|, about 2e-2 for K = 33.
constexpr Tolerance kTf32Gemm{3e-2, 1e-2};

InputSpec N(Shape s) {
  return {std::move(s), test::InputKind::normal};
}
InputSpec Frozen(Shape s) {  // an input without gradient
  return {std::move(s), test::InputKind::constant_normal};
}

OpCase matmul_case(std::string name, InputSpec a, InputSpec b) {
  return {std::move(name), {std::move(a), std::move(b)}, [](const Inputs& x) {
            return matmul(x[0], x[1]);
          }};
}
OpCase linear_case(std::string name, std::vector<InputSpec> in) {
  return {std::move(name), std::move(in), [](const Inputs& x) {
            return x.size() == 3 ? linear(x[0], x[1], x[2]) : linear(x[0], x[1]);
          }};
}

// Both float types; backward too unless `forward_only`.
void expect_parity(const OpCase& c, const FloatBounds& b, bool forward_only = false) {
  test::expect_cuda_parity_f32_f64(c, b, forward_only ? std::nullopt : std::optional(b));
}

// The op-case table's products (2-D, batched, shared operand, empty rows;
// linear with and without bias): the shapes the PyTorch parity tests use.
TEST_F(CudaParity, MatmulAndLinearCasesOfTheOpTable) {
  EXPECT_GE(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 if (!c.name.starts_with("matmul") && !c.name.starts_with("linear"))
                                   return false;
                                 expect_parity(c, kGemm);
                                 return true;
                               }),
            8);
}

// Odd sizes, so a swapped dimension or leading dimension cannot line up.
TEST_F(CudaParity, Matmul2D) {
  expect_parity(matmul_case("2d", N({7, 33}), N({33, 5})), kGemm);
}

TEST_F(CudaParity, MatmulBatched) {
  expect_parity(matmul_case("batched", N({4, 7, 33}), N({4, 33, 5})), kGemm);
}

TEST_F(CudaParity, MatmulBroadcastsA2DOperandOverTheBatch) {
  expect_parity(matmul_case("shared left", N({7, 33}), N({4, 33, 5})), kGemm);
  expect_parity(matmul_case("shared right", N({4, 7, 33}), N({33, 5})), kGemm);
}

TEST_F(CudaParity, MatmulGradientOfOneOperandOnly) {
  expect_parity(matmul_case("frozen a", Frozen({4, 7, 33}), N({4, 33, 5})), kGemm);
  expect_parity(matmul_case("shared a, frozen b", N({7, 33}), Frozen({4, 33, 5})), kGemm);
}

// k = 0: the product is all zeros, which must overwrite the poisoned output.
TEST_F(CudaParity, MatmulWithAnEmptyInnerDimension) {
  expect_parity(matmul_case("2d k=0", N({3, 0}), N({0, 4})), kGemm);
  expect_parity(matmul_case("batched k=0", N({2, 3, 0}), N({2, 0, 4})), kGemm);
}

TEST_F(CudaParity, LinearWithBias) {
  expect_parity(linear_case("3-d input", {N({2, 5, 33}), N({6, 33}), N({6})}), kGemm);
}

TEST_F(CudaParity, LinearWithoutBias) {
  expect_parity(linear_case("no bias", {N({9, 33}), N({6, 33})}), kGemm);
}

TEST_F(CudaParity, LinearOnAFrozenInput) {
  expect_parity(linear_case("frozen x", {Frozen({9, 33}), N({6, 33}), N({6})}), kGemm);
}

// No input features: every row of the output is the bias.
TEST_F(CudaParity, LinearWithNoInputFeatures) {
  expect_parity(linear_case("in_features 0", {N({4, 0}), N({6, 0}), N({6})}), kGemm);
}

// The bias gradient sums 300 rows of the upstream gradient on the GPU.
TEST_F(CudaParity, LinearBiasGradientOverManyRows) {
  expect_parity(linear_case("300 rows", {Frozen({300, 4}), Frozen({3, 4}), N({3})}), kSum);
}

// Restores the TF32 switch however the test ends.
class AllowTf32 {
 public:
  AllowTf32() : before_(cuda::allow_tf32()) { cuda::set_allow_tf32(true); }
  ~AllowTf32() { cuda::set_allow_tf32(before_); }

 private:
  bool before_;
};

TEST_F(CudaParity, Tf32ProductsStayWithinTf32Rounding) {
  AllowTf32 tf32;
  test::expect_cuda_parity(matmul_case("batched", N({4, 7, 33}), N({4, 33, 5})), DType::f32,
                           kTf32Gemm, kTf32Gemm);
  test::expect_cuda_parity(linear_case("bias", {N({9, 33}), N({6, 33}), N({6})}), DType::f32,
                           kTf32Gemm, kTf32Gemm);
}

// Forward and backward (the gradient broadcasts back through expand). The
// shapes reach every branch of the kernel's launch: inner of 1, under one
// warp, several 32-wide tiles, n longer than a block.
TEST_F(CudaParity, SumOverEachDim) {
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {}})
    expect_parity({detail::concat("sum over ", ::testing::PrintToString(dims)),
                   {N({6, 7, 40})},
                   [dims](const Inputs& x) { return sum(x[0], dims); }},
                  kSum);
  expect_parity({"sum of 300 rows", {N({300, 3})}, [](const Inputs& x) { return sum(x[0], {0}); }},
                kSum);
}

TEST_F(CudaParity, MixedDevicesAreAnError) {
  Tensor a = randn({2, 3}), b = randn({3, 4}).to(Device::cuda(0));
  test::expect_error([&] { matmul(a, b); },
                     {"matmul", "different devices", "f32[2, 3] cpu", "f32[3, 4] cuda:0"});
  test::expect_error([&] { linear(b.reshape({4, 3}), a); }, {"linear", "different devices"});
}

}  // namespace
}  // namespace dml
