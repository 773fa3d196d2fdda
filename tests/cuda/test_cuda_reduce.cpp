// Reductions, softmax and the ops composed of them on CUDA against the CPU
// backend (tests/support/cuda_parity.h): sum, mean, var, amax / amin, argmax / argmin,
// logsumexp, softmax / log_softmax, l2_normalize, pairwise distances,
// layer_norm and gradient reversal, forward and backward, f32 and f64. Odd
// shapes reach every branch of the column tiling (inner 1, under one warp,
// several 32-wide tiles; n longer than a block), and ties, NaNs, permuted
// (non-contiguous before the copy) inputs, empty tensors and rows of 10^5
// elements are covered. Skipped where no GPU is present.
//
// Bounds (u = 2^-24 in f32, 2^-53 in f64; inputs and upstream gradients
// N(0, 1)):
// - kExact: max / min select an element, their gradient divides the upstream
//   gradient by a small integer count (correctly rounded on both devices),
//   argmax / argmin are indices: nothing may differ.
// - kSum (sum, mean, var): the CPU adds in order, the GPU as a tree; each
//   differs from the exact sum by at most n * u * sum|x|, about 1e-2 (f32)
//   for the worst n = 1000 here and typically sqrt(n) * u * sqrt(n) = 6e-5.
//   1e-3 absolute + 1e-5 relative (f32), 1e-11 + 1e-12 (f64).
// - kSoftmax (softmax values and gradients): y = exp(x - m) / s, the sum s of
//   up to 10^5 terms has a relative error of about sqrt(n) * u = 2e-5 (f32)
//   on either device, exp differs by 2 ulp: 2e-4 relative (f32), 1e-11
//   (f64), with an absolute floor far below the smallest value (a value off
//   by one thread's share of the sum, 1/256, still fails).
// - kSoftmaxGrad: y * (g - s) with s = sum(g y) cancels where g is near s;
//   there the error is y times the two devices' rounding of s, a few ulp of
//   |s| <= max|g| ~ 4: 2e-7 (f32) and 2e-15 (f64) absolute. Logits scaled by
//   50 scale the gradient by 50 and make softmax one-hot, where g - s cancels
//   for the winning element: kSoftmaxGradOf50x allows 50 x 4 ulp of 4.
// - kLogSoftmax: x - m - log(s) has an absolute error of u * |x| plus the
//   relative error of s: 1e-4 (f32) and 1e-12 (f64) for |x| up to 250.
// - kComposite (l2_normalize, distances, layer_norm, logsumexp): a few ops
//   chained, each a sum of at most 48 products or a correctly rounded
//   operation; a distance's ||a||^2 + ||b||^2 - 2 a.b is a 48-term GEMM of
//   size ~100 with error 48 * u * 31 = 9e-5 (f32): 3e-4 absolute + 1e-4
//   relative (f32), 1e-12 + 1e-11 (f64).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/ops.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::CudaParity;
using test::FloatBounds;
using test::Inputs;
using test::InputSpec;
using test::kExact;
using test::OpCase;

constexpr FloatBounds kSum{{1e-3, 1e-5}, {1e-11, 1e-12}};
constexpr FloatBounds kSoftmax{{1e-10, 2e-4}, {1e-19, 1e-11}};
constexpr FloatBounds kSoftmaxGrad{{2e-7, 2e-4}, {2e-15, 1e-11}};
constexpr FloatBounds kSoftmaxGradOf50x{{1e-4, 2e-4}, {2e-13, 1e-11}};
constexpr FloatBounds kLogSoftmax{{1e-4, 1e-5}, {1e-12, 1e-12}};
constexpr FloatBounds kLogSoftmaxGrad{{5e-6, 1e-4}, {1e-13, 1e-11}};
constexpr FloatBounds kComposite{{3e-4, 1e-4}, {1e-12, 1e-11}};

InputSpec N(Shape s) {
  return {std::move(s), test::InputKind::normal};
}

void expect_parity(const OpCase& c, const FloatBounds& fwd, const FloatBounds& bwd) {
  test::expect_cuda_parity_f32_f64(c, fwd, bwd);
}
void expect_parity(const OpCase& c, const FloatBounds& b) {
  expect_parity(c, b, b);
}
void expect_values(const OpCase& c, const FloatBounds& b) {
  test::expect_cuda_parity_f32_f64(c, b, std::nullopt);
}

// Runs `fn` on the given CPU leaves and their GPU copies, forward and
// backward, in the bounds of the leaves' dtype.
void expect_parity_on(const std::string& what, Inputs cpu,
                      const std::function<Tensor(const Inputs&)>& fn, const FloatBounds& fwd,
                      const FloatBounds& bwd) {
  SCOPED_TRACE(what + " in " + dtype_name(cpu[0].dtype()));
  const bool f64 = cpu[0].dtype() == DType::f64;
  test::expect_cuda_parity_on(test::to_parity_inputs(std::move(cpu)), fn, f64 ? fwd.f64 : fwd.f32,
                              f64 ? bwd.f64 : bwd.f32);
}

// Values drawn from {0, 1, 2}: every row has ties.
Tensor tied(const Shape& shape, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randint(0, 3, shape, DType::i64, &gen).to(dtype).requires_grad_();
}

// ---- the op table ----

TEST_F(CudaParity, ReductionCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 const std::string& n = c.name;
                                 if (n.starts_with("amax") || n.starts_with("amin"))
                                   expect_parity(c, kExact);
                                 else if (n.starts_with("sum") || n.starts_with("mean") ||
                                          n.starts_with("var"))
                                   expect_parity(c, kSum);
                                 else if (n == "logsumexp")
                                   expect_parity(c, kComposite);
                                 else
                                   return false;
                                 return true;
                               }),
            11);
  EXPECT_EQ(test::check_family(test::value_cases(),
                               [](const OpCase& c) {
                                 if (!c.name.starts_with("argm")) return false;
                                 expect_values(c, kExact);
                                 return true;
                               }),
            2);
}

TEST_F(CudaParity, SoftmaxCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 if (c.name.starts_with("softmax"))
                                   expect_parity(c, kSoftmax, kSoftmaxGrad);
                                 else if (c.name.starts_with("log_softmax"))
                                   expect_parity(c, kLogSoftmax, kLogSoftmaxGrad);
                                 else
                                   return false;
                                 return true;
                               }),
            3);
}

TEST_F(CudaParity, CompositeCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 const std::string& n = c.name;
                                 if (!n.starts_with("l2_normalize") && !n.starts_with("pairwise") &&
                                     !n.starts_with("layer_norm") && n != "gradient_reversal")
                                   return false;
                                 expect_parity(c, kComposite);
                                 return true;
                               }),
            7);
}

// ---- sum, mean, var (sum's backward now expands on the device) ----

TEST_F(CudaParity, SumMeanVarOverEachDimWithBackward) {
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {}}) {
    const std::string d = ::testing::PrintToString(dims);
    expect_parity(
        {"sum over " + d, {N({6, 7, 40})}, [dims](const Inputs& x) { return sum(x[0], dims); }},
        kSum);
    expect_parity({"mean over " + d,
                   {N({6, 7, 40})},
                   [dims](const Inputs& x) { return mean(x[0], dims, true); }},
                  kSum);
    expect_parity(
        {"var over " + d, {N({6, 7, 40})}, [dims](const Inputs& x) { return var(x[0], dims); }},
        kSum);
  }
  expect_parity(
      {"sum of 1000 rows", {N({1000, 3})}, [](const Inputs& x) { return sum(x[0], {0}); }}, kSum);
}

// ---- amax / amin ----

// Inner 1, 7 (under a warp), 40 (two tiles); n of 6, 7, 40 and 1000 (longer
// than the 256 threads of a block along n).
TEST_F(CudaParity, MaxMinOverEachDimOfOddShapes) {
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {}}) {
    const std::string d = ::testing::PrintToString(dims);
    expect_parity(
        {"amax over " + d, {N({6, 7, 40})}, [dims](const Inputs& x) { return amax(x[0], dims); }},
        kExact);
    expect_parity({"amin over " + d,
                   {N({6, 7, 40})},
                   [dims](const Inputs& x) { return amin(x[0], dims, true); }},
                  kExact);
  }
  expect_parity({"amax of 1000 x 3 over dim 0",
                 {N({1000, 3})},
                 [](const Inputs& x) { return amax(x[0], {0}); }},
                kExact);
  expect_parity({"amin of 2 x 1000 over dim 1",
                 {N({2, 1000})},
                 [](const Inputs& x) { return amin(x[0], {1}); }},
                kExact);
}

// Ties share the gradient evenly; the count is the same on both devices.
TEST_F(CudaParity, MaxMinWithTies) {
  for (DType t : {DType::f32, DType::f64}) {
    expect_parity_on(
        "amax of ties over dim 0", {tied({600, 5}, t, 3)},
        [](const Inputs& x) { return amax(x[0], {0}); }, kExact, kExact);
    expect_parity_on(
        "amin of ties over dim 1", {tied({5, 600}, t, 4)},
        [](const Inputs& x) { return amin(x[0], {1}, true); }, kExact, kExact);
  }
}

// ---- argmax / argmin ----

// With ties the first index wins on both devices, also when the tied values
// sit in different threads' slices of a long axis (n = 600 > 256).
TEST_F(CudaParity, ArgmaxArgminPickTheFirstOfTiedValues) {
  for (DType t : {DType::f32, DType::f64})
    for (int64_t dim : {0, 1}) {
      Tensor x = tied({600, 600}, t, 5 + dim).detach();
      Tensor g = x.to(Device::cuda(0));
      EXPECT_TRUE(test::all_close(argmax(g, dim).to(Device::cpu()), argmax(x, dim), {0, 0}))
          << "argmax dim " << dim << " " << dtype_name(t);
      EXPECT_TRUE(test::all_close(argmin(g, dim).to(Device::cpu()), argmin(x, dim), {0, 0}))
          << "argmin dim " << dim << " " << dtype_name(t);
    }
  // All equal: index 0 everywhere.
  Tensor same = full({3, 500}, 1.5, DType::f32, Device::cuda(0));
  EXPECT_EQ(argmax(same, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(argmin(same, 1).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0}));
  // The maximum only at the last position, the last thread's slice.
  Tensor last = arange(500, DType::f64).reshape({1, 500}).to(Device::cuda(0));
  EXPECT_EQ(argmax(last, 1).to_vector<int64_t>(), (std::vector<int64_t>{499}));
  EXPECT_EQ(argmin(last, 1).to_vector<int64_t>(), (std::vector<int64_t>{0}));
}

TEST_F(CudaParity, ArgmaxOfLongRowsWideInnerAndScalars) {
  for (const Shape& s : {Shape{2, 100000}, Shape{3, 1000, 45}})
    for (int64_t dim : {0, 1}) {
      Tensor x = randn(s);
      Tensor g = x.to(Device::cuda(0));
      EXPECT_TRUE(
          test::all_close(argmax(g, dim, true).to(Device::cpu()), argmax(x, dim, true), {0, 0}))
          << shape_str(s) << " dim " << dim;
      EXPECT_TRUE(test::all_close(argmin(g, dim).to(Device::cpu()), argmin(x, dim), {0, 0}))
          << shape_str(s) << " dim " << dim;
    }
  Tensor scalar = full({}, 2.0, DType::f32, Device::cuda(0));
  EXPECT_EQ(argmax(scalar, 0).to_vector<int64_t>(), (std::vector<int64_t>{0}));
}

// NaN is the extreme of max and min alike, first NaN first.
TEST_F(CudaParity, NanWinsMaxMinAndArgmax) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v(2 * 300, 0.5);
  v[7] = 3;
  v[123] = nan;
  v[250] = nan;
  v[300 + 299] = nan;
  Tensor x = from_vector(v, {2, 300});
  Tensor g = x.to(Device::cuda(0));
  EXPECT_EQ(argmax(g, 1).to_vector<int64_t>(), argmax(x, 1).to_vector<int64_t>());
  EXPECT_EQ(argmin(g, 1).to_vector<int64_t>(), argmin(x, 1).to_vector<int64_t>());
  EXPECT_EQ(argmax(g, 1).to_vector<int64_t>(), (std::vector<int64_t>{123, 299}));
  for (double m : amax(g, {1}).to_vector<double>()) EXPECT_TRUE(std::isnan(m));
  for (double m : amin(g, {1}).to_vector<double>()) EXPECT_TRUE(std::isnan(m));
}

// ---- permuted inputs, empty tensors ----

// A permuted tensor is a fresh contiguous copy in another order; reducing it
// checks the copy and the reduction together, forward and backward.
TEST_F(CudaParity, PermutedThenReduced) {
  auto permuted = [](const Inputs& x) { return permute(x[0], {2, 0, 1}); };
  expect_parity({"sum of a permuted tensor",
                 {N({5, 33, 9})},
                 [=](const Inputs& x) {
                   return sum(permuted(x), {1, 2});
                 }},
                kSum);
  expect_parity({"amax of a permuted tensor",
                 {N({5, 33, 9})},
                 [=](const Inputs& x) { return amax(permuted(x), {1}); }},
                kExact);
  expect_parity({"var of a transposed tensor",
                 {N({5, 33})},
                 [](const Inputs& x) { return var(transpose(x[0], 0, 1), {1}); }},
                kSum);
  expect_parity({"softmax of a permuted tensor",
                 {N({5, 33, 9})},
                 [=](const Inputs& x) { return softmax(permuted(x), 1); }},
                kSoftmax, kSoftmaxGrad);
  expect_values({"argmax of a permuted tensor",
                 {N({5, 33, 9})},
                 [=](const Inputs& x) { return argmax(permuted(x), 2).to(DType::f64); }},
                kExact);
}

TEST_F(CudaParity, ReductionsOfEmptyTensors) {
  expect_parity(
      {"sum of an empty batch", {N({0, 5})}, [](const Inputs& x) { return sum(x[0], {0}); }}, kSum);
  expect_parity({"amax over the full dim of an empty batch",
                 {N({0, 5})},
                 [](const Inputs& x) { return amax(x[0], {1}); }},
                kExact);
  expect_parity(
      {"softmax of an empty batch", {N({0, 5})}, [](const Inputs& x) { return softmax(x[0], 1); }},
      kSoftmax, kSoftmaxGrad);
  expect_values({"argmax of an empty batch",
                 {N({0, 5})},
                 [](const Inputs& x) { return argmax(x[0], 1).to(DType::f64); }},
                kExact);
  Tensor empty = randn({3, 0}).to(Device::cuda(0));
  test::expect_error([&] { amax(empty, {1}); }, {"amax", "empty dim"});
  test::expect_error([&] { argmin(empty, 1); }, {"argmin", "empty dim"});
}

// ---- softmax / log_softmax ----

TEST_F(CudaParity, SoftmaxOverEachDimOfOddShapes) {
  for (int64_t dim : {0, 1, 2}) {
    expect_parity({detail::concat("softmax dim ", dim),
                   {N({3, 37, 45})},
                   [dim](const Inputs& x) { return softmax(x[0], dim); }},
                  kSoftmax, kSoftmaxGrad);
    expect_parity({detail::concat("log_softmax dim ", dim),
                   {N({3, 37, 45})},
                   [dim](const Inputs& x) { return log_softmax(x[0], dim); }},
                  kLogSoftmax, kLogSoftmaxGrad);
  }
  expect_parity(
      {"softmax over a dim of 1", {N({4, 1, 3})}, [](const Inputs& x) { return softmax(x[0], 1); }},
      kSoftmax, kSoftmaxGrad);
  expect_parity({"softmax over 5 with inner 1000",
                 {N({3, 5, 1000})},
                 [](const Inputs& x) { return softmax(x[0], 1); }},
                kSoftmax, kSoftmaxGrad);
}

// Logits of size up to ~250: without the max subtracted exp overflows f32.
TEST_F(CudaParity, SoftmaxOfLargeLogits) {
  expect_parity(
      {"softmax of 50 x", {N({6, 300})}, [](const Inputs& x) { return softmax(x[0] * 50.0, 1); }},
      kSoftmax, kSoftmaxGradOf50x);
  expect_parity({"log_softmax of 50 x",
                 {N({6, 300})},
                 [](const Inputs& x) { return log_softmax(x[0] * 50.0, 1); }},
                kLogSoftmax, kLogSoftmaxGrad);
}

// Rows of 10^5: each of the 256 threads of a row's block takes ~390 elements.
TEST_F(CudaParity, SoftmaxOfLongRows) {
  expect_parity(
      {"softmax of 2 x 100000", {N({2, 100000})}, [](const Inputs& x) { return softmax(x[0], 1); }},
      kSoftmax, kSoftmaxGrad);
  expect_parity({"log_softmax of 2 x 100000",
                 {N({2, 100000})},
                 [](const Inputs& x) { return log_softmax(x[0], 1); }},
                kLogSoftmax, kLogSoftmaxGrad);
}

// 70000 rows: more blocks than a grid's y or z extent allows (65535), which
// the kernels' one-dimensional grids must not depend on.
TEST_F(CudaParity, MoreRowsThanOneGridDimOf65535) {
  expect_parity(
      {"softmax of 70000 rows", {N({70000, 3})}, [](const Inputs& x) { return softmax(x[0], 1); }},
      kSoftmax, kSoftmaxGrad);
  expect_parity(
      {"amax of 70000 rows", {N({70000, 3})}, [](const Inputs& x) { return amax(x[0], {1}); }},
      kExact);
  expect_values({"argmin of 70000 rows",
                 {N({70000, 3})},
                 [](const Inputs& x) { return argmin(x[0], 1).to(DType::f64); }},
                kExact);
  expect_parity(
      {"sum of 70000 rows", {N({70000, 3})}, [](const Inputs& x) { return sum(x[0], {1}); }}, kSum);
}

// ---- ops composed of the above ----

TEST_F(CudaParity, CompositeOpsOnEmbeddingBatches) {
  expect_parity(
      {"l2_normalize", {N({50, 48})}, [](const Inputs& x) { return l2_normalize(x[0], 1); }},
      kComposite);
  for (Distance d : {Distance::squared_euclidean, Distance::euclidean, Distance::cosine})
    expect_parity({detail::concat("pairwise_distance kind ", int(d)),
                   {N({50, 48}), N({37, 48})},
                   [d](const Inputs& x) { return pairwise_distance(x[0], x[1], d); }},
                  kComposite);
  expect_parity({"layer_norm",
                 {N({50, 48}), N({48}), N({48})},
                 [](const Inputs& x) { return layer_norm(x[0], x[1], x[2]); }},
                kComposite);
  expect_parity(
      {"logsumexp", {N({50, 48})}, [](const Inputs& x) { return logsumexp(x[0] * 5.0, {1}); }},
      kComposite);
  expect_parity({"gradient_reversal",
                 {N({50, 48})},
                 [](const Inputs& x) { return gradient_reversal(l2_normalize(x[0], 1), 0.3); }},
                kComposite);
}

}  // namespace
}  // namespace dml
