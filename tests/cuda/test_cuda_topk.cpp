// Top-k on CUDA against the CPU backend: values and indices, largest and
// smallest, every k from 0 to n, ties (the lower index first), NaN and signed
// zeros, along any dim, empty tensors, many short rows and rows of 10^6.
// Skipped where no GPU is present.
//
// Bounds: none. Top-k selects elements and reports where they were; both
// devices order by the same key (kernels/value_order.h), so values must be
// identical (NaN where NaN, the sign of a zero kept) and indices equal.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/ops.h"
#include "tests/support/cuda_parity.h"

namespace dml {
namespace {

using test::CudaParity;

// The same value in every element, NaN matching NaN and -0 only -0; widening
// f32 to f64 keeps both.
::testing::AssertionResult same_values(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype())
    return ::testing::AssertionFailure() << describe(got) << " vs " << describe(want);
  std::vector<double> g = got.to(Device::cpu()).to(DType::f64).to_vector<double>();
  std::vector<double> w = want.to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    bool same = std::isnan(w[i]) ? std::isnan(g[i])
                                 : g[i] == w[i] && std::signbit(g[i]) == std::signbit(w[i]);
    if (!same)
      return ::testing::AssertionFailure() << "element " << i << " of " << describe(want) << " is "
                                           << g[i] << ", reference " << w[i];
  }
  return ::testing::AssertionSuccess();
}

// topk of x on the GPU against the CPU: values and indices.
void expect_topk_parity(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  SCOPED_TRACE(detail::concat("topk k=", k, " dim=", dim, largest ? " largest " : " smallest ",
                              describe(x)));
  auto [want_v, want_i] = topk(x, k, dim, largest);
  auto [got_v, got_i] = topk(x.to(Device::cuda(0)), k, dim, largest);
  EXPECT_EQ(got_v.device(), Device::cuda(0));
  EXPECT_EQ(got_i.device(), Device::cuda(0));
  EXPECT_EQ(got_i.dtype(), DType::i64);
  EXPECT_TRUE(same_values(got_v, want_v));
  EXPECT_TRUE(same_values(got_i, want_i));
}

// Values drawn from {0, ..., levels - 1}: long runs of ties.
Tensor tied(const Shape& shape, int64_t levels, DType dtype, uint64_t seed) {
  Generator gen(seed);
  return randint(0, levels, shape, DType::i64, &gen).to(dtype);
}

TEST_F(CudaParity, TopkCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::value_cases(),
                               [](const test::OpCase& c) {
                                 if (!c.name.starts_with("topk")) return false;
                                 test::expect_cuda_parity_f32_f64(c, test::kExact, std::nullopt);
                                 return true;
                               }),
            3);
}

TEST_F(CudaParity, TopkEveryKLargestAndSmallest) {
  for (DType t : {DType::f32, DType::f64}) {
    Tensor x = randn({5, 7}, t);
    for (int64_t k = 0; k <= 7; ++k)
      for (bool largest : {true, false}) expect_topk_parity(x, k, 1, largest);
  }
}

TEST_F(CudaParity, TopkTiesKeepTheLowerIndexFirst) {
  for (DType t : {DType::f32, DType::f64})
    for (bool largest : {true, false}) {
      expect_topk_parity(tied({33, 1000}, 5, t, 1), 300, 1, largest);
      expect_topk_parity(tied({33, 1000}, 5, t, 2), 1000, 1, largest);
      expect_topk_parity(tied({4, 70000}, 3, t, 3), 5, 1, largest);
    }
  // All equal: the indices in order.
  auto [v, i] = topk(full({2, 6}, 1.0, DType::f32, Device::cuda(0)), 4, 1);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
}

// NaN ranks above every number when largest and below when smallest; -0 and
// +0 are equals, so they keep their order.
TEST_F(CudaParity, TopkOfNanInfinityAndSignedZeros) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> row{1, nan, -0.0, 0.0, nan, 3, -inf, inf, -0.0, -2};
  for (DType t : {DType::f32, DType::f64}) {
    Tensor x = from_vector(row, {1, 10}).to(t);
    for (bool largest : {true, false}) expect_topk_parity(x, 10, 1, largest);
    auto [v, i] = topk(x.to(Device::cuda(0)), 10, 1, true);
    EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 4, 7, 5, 0, 2, 3, 8, 9, 6}));
  }
}

TEST_F(CudaParity, TopkAlongOtherDims) {
  Tensor x = randn({6, 5, 4}, DType::f64);
  for (int64_t dim : {0, 1, 2}) {
    expect_topk_parity(x, 3, dim, true);
    expect_topk_parity(x, 2, dim, false);
  }
}

TEST_F(CudaParity, TopkOfEmptyTensorsAndKZero) {
  expect_topk_parity(randn({0, 5}), 2, 1, true);
  expect_topk_parity(randn({3, 5}), 0, 1, true);
  expect_topk_parity(randn({3, 0}), 0, 1, false);
}

// Many short rows (one segment each) and a few rows of a million.
TEST_F(CudaParity, TopkOfManyShortRowsAndOfLongRows) {
  expect_topk_parity(randn({5000, 37}), 5, 1, true);
  expect_topk_parity(randn({3, 1}), 1, 1, false);
  Tensor longest = randn({2, 1000000});
  expect_topk_parity(longest, 10, 1, true);
  expect_topk_parity(longest, 1000, 1, false);
  expect_topk_parity(randn({1, 1000000}, DType::f64), 1000000, 1, true);
}

}  // namespace
}  // namespace dml
