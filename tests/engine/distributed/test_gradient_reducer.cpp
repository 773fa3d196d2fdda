// The bucketed gradient reducer: the plan of buckets, the sums it leaves in
// every parameter's gradient, the buckets it starts while backward runs, and
// the broadcast of parameters.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/distributed/bucket_plan.h"
#include "engine/distributed/gradient_reducer.h"
#include "engine/ops.h"
#include "tests/engine/distributed/test_world.h"
#include "tests/support/gradcheck_support.h"

namespace dml::dist {
namespace {

using test::test_world;

// The world, counting the all-reduces started on it.
class CountingCommunicator final : public Communicator {
 public:
  explicit CountingCommunicator(Communicator& inner) : inner_(inner) {}
  int started = 0;

  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  int local_rank() const override { return inner_.local_rank(); }
  int local_size() const override { return inner_.local_size(); }
  std::string backend() const override { return inner_.backend(); }
  void all_reduce_sum(Tensor& t) override { inner_.all_reduce_sum(t); }
  std::unique_ptr<PendingCollective> all_reduce_sum_async(Tensor& t) override {
    ++started;
    return inner_.all_reduce_sum_async(t);
  }
  Tensor all_gather_rows(const Tensor& local, std::vector<int64_t>* counts) override {
    return inner_.all_gather_rows(local, counts);
  }
  void broadcast(Tensor& t, int root) override { inner_.broadcast(t, root); }
  void barrier() override { inner_.barrier(); }
  std::vector<int64_t> all_gather_value(int64_t value) override {
    return inner_.all_gather_value(value);
  }
  void set_timeout(double seconds) override { inner_.set_timeout(seconds); }

 private:
  Communicator& inner_;
};

Tensor seeded(const Shape& shape, double scale, double shift) {
  std::vector<double> v(size_t(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * std::sin(double(i) + shift);
  return from_vector(v, shape).to(DType::f32);
}

// Two Linear layers and an extra vector that only rank 0's loss uses (so on
// the other ranks it has no gradient).
struct Model {
  Tensor w1 = seeded({6, 4}, 0.5, 0).requires_grad_();
  Tensor b1 = seeded({6}, 0.1, 1).requires_grad_();
  Tensor w2 = seeded({3, 6}, 0.4, 2).requires_grad_();
  Tensor b2 = seeded({3}, 0.1, 3).requires_grad_();
  Tensor extra = seeded({5}, 0.3, 4).requires_grad_();
  std::vector<Tensor> params() const { return {w1, b1, w2, b2, extra}; }

  Tensor loss(int rank, bool with_extra) const {
    Tensor x = seeded({2 + rank, 4}, 1.0, 10 * rank + 5);
    Tensor y = linear(relu(linear(x, w1, b1)), w2, b2);
    Tensor l = sum(mul(y, y));
    return with_extra && rank == 0 ? add(l, sum(mul(extra, extra))) : l;
  }
};

// What finish() must leave: the sum over ranks of each rank's gradients,
// computed here in one process. A parameter no rank's loss reaches stays
// without gradient.
std::vector<Tensor> summed_gradients(int world_size, bool with_extra) {
  Model m;
  for (int q = 0; q < world_size; ++q) m.loss(q, with_extra).backward();
  std::vector<Tensor> grads;
  for (const Tensor& p : m.params()) grads.push_back(p.grad());
  return grads;
}

TEST(BucketPlan, FillsBucketsInReverseOrderWithoutSplittingATensor) {
  const std::vector<Tensor> p = Model().params();  // bytes 96, 24, 72, 12, 20
  using Plan = std::vector<std::vector<size_t>>;
  EXPECT_EQ(plan_buckets(p, 100.0 / (1 << 20)), Plan({{4, 3}, {2, 1}, {0}}));
  EXPECT_EQ(plan_buckets(p, 25), Plan({{4, 3, 2, 1, 0}}));
  EXPECT_EQ(plan_buckets(p, 1e-9), Plan({{4}, {3}, {2}, {1}, {0}}));
  // One dtype per bucket.
  std::vector<Tensor> mixed = {zeros({2}), zeros({2}, DType::f64), zeros({2})};
  EXPECT_EQ(plan_buckets(mixed, 25), Plan({{2}, {1}, {0}}));
  EXPECT_THROW(plan_buckets(p, 0), Error);
}

TEST(GradientReducer, LeavesTheSumOverRanksInEveryGradient) {
  Communicator& w = test_world();
  for (double bucket_mb : {100.0 / (1 << 20), 25.0}) {
    Model m;
    GradientReducer reducer(w, m.params(), bucket_mb);
    EXPECT_EQ(reducer.buckets(), int64_t(plan_buckets(m.params(), bucket_mb).size()));
    {
      auto scope = reducer.watch();
      m.loss(w.rank(), true).backward();
    }
    reducer.finish();
    const std::vector<Tensor> want = summed_gradients(w.size(), true);
    for (size_t i = 0; i < want.size(); ++i)
      test::expect_tensor_near(m.params()[i].grad(), want[i], 1e-5, 1e-5,
                               "parameter " + std::to_string(i));
  }
}

TEST(GradientReducer, StartsBucketsWhileBackwardRuns) {
  CountingCommunicator counting(test_world());
  Model m;
  GradientReducer reducer(counting, m.params(), 1e-9);  // a bucket per parameter
  {
    auto scope = reducer.watch();
    m.loss(counting.rank(), false).backward();
  }
  // The extra vector has no gradient and is first in launch order, so it
  // holds back every bucket: buckets start in order on every rank.
  EXPECT_EQ(counting.started, 0);
  reducer.finish();
  EXPECT_EQ(counting.started, 5);

  Model used;
  GradientReducer overlapped(counting, {used.w1, used.b1, used.w2, used.b2}, 1e-9);
  counting.started = 0;
  {
    auto scope = overlapped.watch();
    used.loss(counting.rank(), false).backward();
  }
  EXPECT_EQ(counting.started, 4);  // all of them, before backward returned
  overlapped.finish();
  EXPECT_EQ(counting.started, 4);
  const std::vector<Tensor> want = summed_gradients(counting.size(), false);
  test::expect_tensor_near(used.w1.grad(), want[0], 1e-5, 1e-5, "w1");

  // Outside watch() nothing starts before finish().
  used.w1.zero_grad();
  used.b1.zero_grad();
  used.w2.zero_grad();
  used.b2.zero_grad();
  counting.started = 0;
  used.loss(counting.rank(), false).backward();
  EXPECT_EQ(counting.started, 0);
  overlapped.finish();
  EXPECT_EQ(counting.started, 4);
  test::expect_tensor_near(used.w1.grad(), want[0], 1e-5, 1e-5, "w1 without overlap");
}

TEST(GradientReducer, RefusesMoreGradientAfterItsBucketStarted) {
  Communicator& w = test_world();
  Model m;
  GradientReducer reducer(w, {m.w1, m.b1, m.w2, m.b2}, 25);
  {
    auto scope = reducer.watch();
    m.loss(w.rank(), false).backward();
    try {
      m.loss(w.rank(), false).backward();
      ADD_FAILURE() << "a second backward into started buckets was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("got more gradient after its bucket's all-reduce"),
                std::string::npos)
          << e.what();
    }
  }
  reducer.finish();  // the started buckets still complete on every rank
}

TEST(GradientReducer, RefusesParametersItCannotReduce) {
  Communicator& w = test_world();
  Tensor p = zeros({2}).requires_grad_();
  EXPECT_THROW(GradientReducer(w, {p, p}, 25), Error);
  EXPECT_THROW(GradientReducer(w, {zeros({2})}, 25), Error);
}

TEST(GradientReducer, BroadcastsTheRootsParameters) {
  Communicator& w = test_world();
  Model m;
  copy_into(m.w2, full({3, 6}, 1.0 + w.rank()));
  Tensor handle = m.w2;  // an optimizer's handle sees the new values
  GradientReducer reducer(w, m.params(), 25);
  reducer.broadcast_parameters(w.size() - 1);
  for (float v : handle.to_vector<float>()) EXPECT_EQ(v, float(w.size()));
}

}  // namespace
}  // namespace dml::dist
