// The all-gather with gradient: each rank's loss on every rank's rows,
// scaled by 1 / world, with the parameter gradients summed over ranks,
// gives one process's gradient on the whole batch.
#include <gtest/gtest.h>

#include "engine/distributed/gather.h"
#include "engine/ops.h"
#include "tests/engine/distributed/test_world.h"
#include "tests/support/gradcheck_support.h"

namespace dml::dist {
namespace {

using test::test_world;

// Rank q's rows: q + 1 of them (the counts differ), the same on every rank
// that asks, so each rank can also compute the one-process reference.
Tensor inputs_of(int q) {
  std::vector<double> v(size_t(q + 1) * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.3 * double(i) - 0.7 * q + 0.1;
  return from_vector(v, {q + 1, 3});
}

Tensor weight() {
  std::vector<double> v(12);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.05 * double(i) - 0.2;
  return from_vector(v, {3, 4}).requires_grad_();
}

// A loss with the anchors on this rank and the candidates everywhere, the
// way cross-rank negatives see the batch.
Tensor anchored_loss(const Tensor& anchors, const Tensor& candidates) {
  return sum(tanh(matmul(anchors, transpose(candidates, 0, 1))));
}

TEST(GatherWithGrad, IsTheIdentityInOneProcess) {
  Communicator& w = test_world();
  if (w.size() != 1) GTEST_SKIP() << "one process only";
  Tensor x = inputs_of(2);
  Tensor W = weight();
  Tensor e = matmul(x, W);
  EXPECT_TRUE(all_gather_with_grad(w, e).same(e));
  test::expect_gradients_match(
      [&] {
        Tensor local = matmul(x, W);
        return anchored_loss(local, all_gather_with_grad(w, local));
      },
      {W}, "gather in one process");
}

TEST(GatherWithGrad, SummedGradientsEqualOneProcessOnTheWholeBatch) {
  Communicator& w = test_world();
  const int n = w.size(), r = w.rank();

  Tensor W = weight();
  Tensor local = matmul(inputs_of(r), W);
  Tensor gathered = all_gather_with_grad(w, local);
  ASSERT_EQ(gathered.size(0), int64_t(n) * (n + 1) / 2);
  mul(anchored_loss(local, gathered), 1.0 / n).backward();
  Tensor summed = W.grad().clone();
  w.all_reduce_sum(summed);

  // One process: every rank's rows at once, each rank's anchors in turn.
  Tensor W1 = weight();
  std::vector<Tensor> xs;
  for (int q = 0; q < n; ++q) xs.push_back(inputs_of(q));
  Tensor all = matmul(concat(xs, 0), W1);
  Tensor total = zeros({}, DType::f64);
  int64_t begin = 0;
  for (int q = 0; q < n; ++q) {
    total = add(total, anchored_loss(all.slice(begin, begin + q + 1), all));
    begin += q + 1;
  }
  mul(total, 1.0 / n).backward();
  test::expect_tensor_near(summed, W1.grad(), 1e-12, 1e-12, "summed gradient");
}

}  // namespace
}  // namespace dml::dist
