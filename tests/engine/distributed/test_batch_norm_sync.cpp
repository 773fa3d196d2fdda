// Synchronised batch norm: each rank normalising its share of a batch with
// the ranks' statistics gives what one batch norm gives on the whole batch
// (outputs, running statistics, the input's and residual's gradients, and
// the parameters' gradients once summed over the ranks). In one process
// (a world of one) the synchronised op is the plain one.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/distributed/batch_norm_sync.h"
#include "engine/ops.h"
#include "tests/engine/distributed/test_world.h"
#include "tests/support/gradcheck_support.h"
#include "tests/support/test_support.h"

namespace dml::dist {
namespace {

using test::test_world;

constexpr int64_t kChannels = 3, kH = 2, kW = 3;

// Rank q's share of the batch: q + 2 images (the shares differ, so the
// ranks' statistics weigh by their counts).
int64_t images_of(int q) {
  return q + 2;
}
int64_t first_image_of(int q) {
  int64_t begin = 0;
  for (int p = 0; p < q; ++p) begin += images_of(p);
  return begin;
}

// The whole batch of `n` images, each channel with its own mean and spread;
// `phase` gives another tensor of the same shape.
Tensor batch(int64_t n, double phase, DType dtype) {
  std::vector<double> v(size_t(n * kChannels * kH * kW));
  for (size_t i = 0; i < v.size(); ++i) {
    const double ch = double((int64_t(i) / (kH * kW)) % kChannels);
    v[i] = (1 + ch) * std::sin(0.37 * double(i) + phase) + 0.5 * ch - 0.2;
  }
  return from_vector(v, {n, kChannels, kH, kW}).to(dtype);
}

enum class Variant { plain, relu, relu_residual };

struct Outcome {
  Tensor y, dx, dresidual, dweight, dbias, running_mean, running_var;
};

// One training forward and backward of the variant's op on x, with `dy` as
// the output's gradient, under `sync` (null: none).
Outcome run(Variant variant, const Tensor& x_in, const Tensor& residual_in, const Tensor& dy,
            BatchNormSync* sync) {
  const DType dtype = x_in.dtype();
  Tensor x = x_in.clone().requires_grad_();
  Tensor residual = residual_in.clone().requires_grad_();
  Tensor weight = from_vector(std::vector<double>{1.2, 0.8, -0.5}, {kChannels}).to(dtype);
  Tensor bias = from_vector(std::vector<double>{0.1, -0.2, 0.3}, {kChannels}).to(dtype);
  weight.requires_grad_();
  bias.requires_grad_();
  Tensor running_mean = zeros({kChannels}, dtype), running_var = ones({kChannels}, dtype);
  BatchNormSyncScope scope(sync);
  Tensor y = variant == Variant::plain
                 ? batch_norm2d(x, weight, bias, running_mean, running_var, true)
                 : batch_norm2d_relu(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5,
                                     variant == Variant::relu_residual ? residual : Tensor());
  sum(y * dy).backward();
  return {y, x.grad(), residual.grad(), weight.grad(), bias.grad(), running_mean, running_var};
}

void expect_synchronised_equals_whole_batch(Variant variant, DType dtype, double tol) {
  Communicator& w = test_world();
  const int n = w.size(), r = w.rank();
  const int64_t total = first_image_of(n), begin = first_image_of(r), end = begin + images_of(r);
  const Tensor x = batch(total, 0, dtype), residual = batch(total, 1, dtype),
               dy = batch(total, 2, dtype);

  CommunicatorBatchNormSync sync(w);
  Outcome mine =
      run(variant, x.slice(begin, end), residual.slice(begin, end), dy.slice(begin, end), &sync);
  const Outcome whole = run(variant, x, residual, dy, nullptr);

  test::expect_tensor_near(mine.y, whole.y.slice(begin, end), tol, tol, "y");
  test::expect_tensor_near(mine.dx, whole.dx.slice(begin, end), tol, tol, "dx");
  if (variant == Variant::relu_residual)
    test::expect_tensor_near(mine.dresidual, whole.dresidual.slice(begin, end), tol, tol,
                             "dresidual");
  test::expect_tensor_near(mine.running_mean, whole.running_mean, tol, tol, "running_mean");
  test::expect_tensor_near(mine.running_var, whole.running_var, tol, tol, "running_var");
  // The parameters' gradients are this rank's: the gradient reducer sums them.
  w.all_reduce_sum(mine.dweight);
  w.all_reduce_sum(mine.dbias);
  test::expect_tensor_near(mine.dweight, whole.dweight, tol, tol, "dweight summed");
  test::expect_tensor_near(mine.dbias, whole.dbias, tol, tol, "dbias summed");
}

TEST(BatchNormSync, EqualsOneBatchNormOnTheWholeBatch) {
  expect_synchronised_equals_whole_batch(Variant::plain, DType::f64, 1e-10);
}

TEST(BatchNormSync, FusedReluEqualsOneBatchNormOnTheWholeBatch) {
  expect_synchronised_equals_whole_batch(Variant::relu, DType::f64, 1e-10);
  expect_synchronised_equals_whole_batch(Variant::relu_residual, DType::f64, 1e-10);
}

// f32: the same within f32 rounding (the ranks' statistics are rounded to
// f32 before they are combined).
TEST(BatchNormSync, EqualsOneBatchNormOnTheWholeBatchInF32) {
  expect_synchronised_equals_whole_batch(Variant::plain, DType::f32, 1e-5);
  expect_synchronised_equals_whole_batch(Variant::relu_residual, DType::f32, 1e-5);
}

// The synchronised backward against central differences (one process: a
// perturbed rank's loss alone would not be the whole batch's).
TEST(BatchNormSync, GradientMatchesFiniteDifferencesInOneProcess) {
  Communicator& w = test_world();
  if (w.size() != 1) GTEST_SKIP() << "one process only";
  CommunicatorBatchNormSync sync(w);
  BatchNormSyncScope scope(&sync);
  Tensor x = batch(2, 0, DType::f64).requires_grad_();
  Tensor residual = batch(2, 1, DType::f64).requires_grad_();
  const Tensor dy = batch(2, 2, DType::f64);
  Tensor weight = from_vector(std::vector<double>{1.2, 0.8, -0.5}, {kChannels}).requires_grad_();
  Tensor bias = from_vector(std::vector<double>{0.1, -0.2, 0.3}, {kChannels}).requires_grad_();
  Tensor running_mean = zeros({kChannels}, DType::f64), running_var = ones({kChannels}, DType::f64);
  test::expect_gradients_match(
      [&] {
        return sum(batch_norm2d_relu(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5,
                                     residual) *
                   dy);
      },
      {x, residual, weight, bias}, "synchronised batch_norm2d_relu");
}

// A forward that summed over the ranks needs its backward to sum too.
TEST(BatchNormSync, BackwardWithoutTheHookIsAnError) {
  Communicator& w = test_world();
  CommunicatorBatchNormSync sync(w);
  Tensor x = batch(2, 0, DType::f64).requires_grad_();
  Tensor running_mean = zeros({kChannels}, DType::f64), running_var = ones({kChannels}, DType::f64);
  Tensor y;
  {
    BatchNormSyncScope scope(&sync);
    y = batch_norm2d(x, Tensor(), Tensor(), running_mean, running_var, true);
  }
  test::expect_error([&] { sum(y * y).backward(); },
                     {"batch_norm2d_backward", "keep one BatchNormSyncScope around both"});
}

}  // namespace
}  // namespace dml::dist
