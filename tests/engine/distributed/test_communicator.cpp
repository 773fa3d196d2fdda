// Every collective of the world, in one process and under mpirun -n 2:
// values, differing row counts, dtypes, the errors that name the ranks, and
// a timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/distributed/communicator.h"
#include "engine/ops.h"
#include "tests/engine/distributed/test_world.h"

namespace dml {
// A dtype parameter by name in ctest's test names, not by its byte.
void PrintTo(DType d, std::ostream* out) {
  *out << dtype_name(d);
}
}  // namespace dml

namespace dml::dist {
namespace {

using test::test_world;

Tensor filled(const Shape& shape, DType dtype, const std::function<double(int64_t)>& value) {
  std::vector<double> v(size_t(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = value(int64_t(i));
  return from_vector(v, shape).to(dtype);
}

std::vector<double> values(const Tensor& t) {
  return t.to(DType::f64).to_vector<double>();
}

void expect_error_containing(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Communicator, WorldMatchesTheLauncher) {
  Communicator& w = test_world();
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  EXPECT_EQ(w.size(), size ? std::atoi(size) : 1);
  EXPECT_GE(w.rank(), 0);
  EXPECT_LT(w.rank(), w.size());
  EXPECT_GE(w.local_rank(), 0);
  EXPECT_LT(w.local_rank(), w.local_size());
  EXPECT_EQ(w.backend(), w.size() == 1 ? "single" : "mpi");
  EXPECT_TRUE(built_with_mpi() || w.size() == 1);
}

class AllReduce : public ::testing::TestWithParam<DType> {};

TEST_P(AllReduce, SumsEveryRanksValues) {
  Communicator& w = test_world();
  const int n = w.size(), r = w.rank();
  Tensor t = filled({3, 5}, GetParam(), [&](int64_t i) { return double((r + 1) * (i + 1)); });
  w.all_reduce_sum(t);
  const std::vector<double> got = values(t);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], double(i + 1) * n * (n + 1) / 2) << i;
}

TEST_P(AllReduce, AsyncCompletesInPlace) {
  Communicator& w = test_world();
  const int n = w.size();
  Tensor t = filled({7}, GetParam(), [&](int64_t i) { return double(i + w.rank()); });
  auto pending = w.all_reduce_sum_async(t);
  while (!pending->test()) std::this_thread::yield();
  pending->wait();  // after test() said done: returns at once
  const std::vector<double> got = values(t);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], double(i) * n + n * (n - 1) / 2) << i;
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AllReduce,
                         ::testing::Values(DType::f32, DType::f64, DType::i32, DType::i64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Communicator, RefusesToSumWhatItCannot) {
  Communicator& w = test_world();
  Tensor t = zeros({4}, DType::bf16);
  expect_error_containing([&] { w.all_reduce_sum(t); }, "all_reduce_sum: cannot sum bf16[4] cpu");
  Tensor u = zeros({4}, DType::u8);
  EXPECT_THROW(w.all_reduce_sum_async(u), Error);
}

class GatherRows : public ::testing::TestWithParam<DType> {};

// Rank r gives r + 1 rows of [2, 3] (rank 0 none, in a second round).
TEST_P(GatherRows, ConcatenatesInRankOrderWithDifferingCounts) {
  Communicator& w = test_world();
  for (int rows_of_rank0 : {1, 0}) {
    auto rows_of = [&](int r) { return r == 0 ? rows_of_rank0 : r + 1; };
    auto value = [](int r, int64_t i) { return double(50 * r + i); };
    const int r = w.rank();
    Tensor local = filled({rows_of(r), 2, 3}, GetParam(), [&](int64_t i) { return value(r, i); });
    std::vector<int64_t> counts;
    Tensor all = w.all_gather_rows(local, &counts);
    int64_t total = 0;
    std::vector<double> want;
    for (int q = 0; q < w.size(); ++q) {
      EXPECT_EQ(counts[q], rows_of(q));
      total += rows_of(q);
      for (int64_t i = 0; i < rows_of(q) * 6; ++i) want.push_back(value(q, i));
    }
    EXPECT_EQ(all.shape(), Shape({total, 2, 3}));
    EXPECT_EQ(all.dtype(), GetParam());
    EXPECT_EQ(values(all), want);
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, GatherRows,
                         ::testing::Values(DType::f32, DType::f64, DType::i64, DType::u8,
                                           DType::bf16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Communicator, GatherMismatchNamesBothRanksAndShapes) {
  SKIP_UNLESS_SEVERAL_RANKS();
  Communicator& w = test_world();
  const bool last = w.rank() == w.size() - 1;
  const std::string other = "rank " + std::to_string(w.size() - 1);
  // Every rank sees every rank's layout, so every rank fails alike.
  expect_error_containing(
      [&] {
        w.all_gather_rows(zeros({2, last ? 4 : 3}));
      },
      "rank 0 gives f32[*, 3] cpu but " + other + " gives f32[*, 4] cpu");
  expect_error_containing(
      [&] {
        w.all_gather_rows(zeros({2, 3}, last ? DType::f64 : DType::f32));
      },
      "rank 0 gives f32[*, 3] cpu but " + other + " gives f64[*, 3] cpu");
  // The world goes on after a refused gather.
  EXPECT_EQ(w.all_gather_value(1).size(), size_t(w.size()));
}

TEST(Communicator, BroadcastsTheRootsValues) {
  Communicator& w = test_world();
  const int root = w.size() - 1;
  for (DType d : {DType::f32, DType::i32, DType::u8}) {
    Tensor t = filled({4, 2}, d, [&](int64_t i) { return double(10 * w.rank() + i); });
    w.broadcast(t, root);
    const std::vector<double> got = values(t);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], double(10 * root + i)) << i;
  }
  Tensor t = zeros({1});
  expect_error_containing([&] { w.broadcast(t, w.size()); }, "is not a rank of");
}

TEST(Communicator, GathersOneValuePerRank) {
  Communicator& w = test_world();
  const std::vector<int64_t> got = w.all_gather_value(int64_t(1) << 40 | w.rank());
  ASSERT_EQ(got.size(), size_t(w.size()));
  for (int r = 0; r < w.size(); ++r) EXPECT_EQ(got[r], int64_t(1) << 40 | r);
  w.barrier();
}

TEST(Communicator, RefusesATimeoutThatIsNotPositive) {
  Communicator& w = test_world();
  EXPECT_THROW(w.set_timeout(0), Error);
  EXPECT_THROW(w.set_timeout(-1), Error);
}

// Rank 1 comes 3 s late to an all-reduce that rank 0 waits for 1 s: rank 0
// fails, naming the collective, its size, its rank and the timeout's key;
// then rank 1 arrives, both meet at a barrier and the world goes on.
TEST(Communicator, AWaitBeyondTheTimeoutFailsNamingTheCollective) {
  SKIP_UNLESS_SEVERAL_RANKS();
  Communicator& w = test_world();
  Tensor t = ones({4});
  if (w.rank() == 0) {
    w.set_timeout(1);
    const auto start = std::chrono::steady_clock::now();
    expect_error_containing([&] { w.all_reduce_sum(t); },
                            "all_reduce_sum of 16 B on rank 0 of " + std::to_string(w.size()) +
                                " waited 1 s: a rank is hung or gone; "
                                "distributed.timeout_seconds sets the limit");
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(waited, 1.0);
    EXPECT_LT(waited, 2.5);
    w.set_timeout(15);
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    w.all_reduce_sum(t);
  }
  w.barrier();
  EXPECT_EQ(w.all_gather_value(7), std::vector<int64_t>(size_t(w.size()), 7));
}

// A build without MPI started as one rank of several (ctest's
// Distributed.WithoutMpi sets the launcher's variables) refuses to run as a
// world of one, which would train N copies of one model.
TEST(World, WithoutMpiSeveralRanksAreAnError) {
  if (built_with_mpi()) GTEST_SKIP() << "built with MPI";
  if (!std::getenv("OMPI_COMM_WORLD_SIZE")) GTEST_SKIP() << "not started as one of several ranks";
  expect_error_containing([] { world(); },
                          "dml was built without MPI, but this process is rank 1 of 2 "
                          "(OMPI_COMM_WORLD_SIZE); install libopenmpi-dev and rebuild");
}

}  // namespace
}  // namespace dml::dist
