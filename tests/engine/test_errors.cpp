// Wrong shapes, dtypes and indices throw an Error that names the op and the
// tensors involved, so a user can find the call from the message alone.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

using test::expect_error;

TEST(Errors, ShapeMismatchesNameOpAndBothShapes) {
  Tensor a = zeros({2, 3}), b = zeros({4}), w = zeros({4, 5});
  expect_error([&] { add(a, b); }, {"add", "[2, 3]", "[4]"});
  expect_error([&] { matmul(a, w); }, {"matmul", "f32[2, 3]", "f32[4, 5]"});
  expect_error([&] { linear(a, zeros({5, 4})); }, {"linear", "[2, 3]", "[5, 4]"});
  expect_error(
      [&] {
        conv2d(zeros({1, 3, 8, 8}), zeros({4, 2, 3, 3}));
      },
      {"conv2d", "[1, 3, 8, 8]", "[4, 2, 3, 3]"});
  expect_error([&] { concat({a, zeros({3, 3})}, 1); }, {"concat", "[3, 3]", "[2, 3]"});
  expect_error(
      [&] {
        batch_norm2d(zeros({2, 3, 4, 4}), zeros({2}), {}, zeros({3}), ones({3}), true);
      },
      {"batch_norm2d", "[2]", "[2, 3, 4, 4]"});
  expect_error(
      [&] {
        pairwise_distance(zeros({2, 3}), zeros({2, 4}), Distance::euclidean);
      },
      {"pairwise_distance", "[2, 3]", "[2, 4]"});
  expect_error([&] { sum(a, {2}); }, {"sum", "dimension 2"});
  expect_error([&] { max_pool2d(zeros({1, 1, 2, 2}), 3, 1); }, {"max_pool2d", "[1, 1, 2, 2]"});
}

TEST(Errors, DtypeMismatchesNameBothTensors) {
  expect_error([&] { mul(zeros({2}), zeros({2}, DType::f64)); }, {"mul", "f32[2]", "f64[2]"});
  expect_error([&] { exp(arange(3)); }, {"exp", "i64[3]", "f32 or f64"});
  expect_error(
      [&] {
        cross_entropy(zeros({2, 3}), zeros({2}));
      },
      {"cross_entropy", "targets", "i64"});
  expect_error([&] { zeros({2}).data<double>(); }, {"data<f64>", "f32[2]"});
}

TEST(Errors, IndicesOutOfRangeAreReportedWithPosition) {
  Tensor x = zeros({4, 3});
  Tensor idx = from_vector<int64_t>({0, 7, 1}, {3});
  expect_error([&] { index_select(x, 0, idx); },
               {"index_select", "index 7", "position 1", "[0, 4)"});
  expect_error(
      [&] {
        gather(x, 1, from_vector<int64_t>({0, 0, 0, 0, 0, -1, 0, 0}, {4, 2}));
      },
      {"gather", "-1"});
  expect_error([&] { one_hot(from_vector<int64_t>({3}, {1}), 3); }, {"one_hot", "index 3"});
  expect_error(
      [&] {
        cross_entropy(zeros({2, 3}), from_vector<int64_t>({0, 5}, {2}));
      },
      {"gather", "index 5"});
  expect_error([&] { topk(x, 4, 1); }, {"topk", "k = 4"});
}

}  // namespace
}  // namespace dml
