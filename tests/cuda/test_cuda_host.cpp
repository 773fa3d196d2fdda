// The parts of the CUDA backend that run on the host alone, so machines
// without a GPU check them too: the status checks of the CUDA runtime, cuBLAS
// and cuDNN, the cuDNN library found at run time, the TF32 and poisoning
// switches, the parity harness's comparison, and the merge rule of the CUDA
// max/min reduction, replayed on the host.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/reduce.h"
#include "kernels/cuda/blas.h"
#include "kernels/cuda_runtime/check.h"
#include "kernels/cuda_runtime/device_memory.h"
#include "kernels/cuda_runtime/dnn.h"
#include "kernels/value_order.h"
#include "tests/support/cuda_parity.h"
#include "tests/support/test_support.h"

namespace dml {
namespace {

// Counts its calls, so a check is seen to evaluate the call exactly once.
template <class Status>
Status returns(Status s, int* calls) {
  ++*calls;
  return s;
}

TEST(CudaChecks, NameTheCallFileLineAndStatus) {
  int calls = 0;
  test::expect_error([&] { DML_CUDA_CHECK(returns(cudaErrorInvalidValue, &calls)); },
                     {"returns(cudaErrorInvalidValue, &calls) failed at ",
                      "test_cuda_host.cpp:", "cudaErrorInvalidValue: invalid argument"});
  test::expect_error([&] { DML_CUBLAS_CHECK(returns(CUBLAS_STATUS_INVALID_VALUE, &calls)); },
                     {"returns(CUBLAS_STATUS_INVALID_VALUE, &calls) failed at ",
                      "test_cuda_host.cpp:", "CUBLAS_STATUS_INVALID_VALUE"});
  test::expect_error([&] { DML_CUDNN_CHECK(returns(CUDNN_STATUS_BAD_PARAM, &calls)); },
                     {"returns(CUDNN_STATUS_BAD_PARAM, &calls) failed at ",
                      "test_cuda_host.cpp:", "CUDNN_STATUS_BAD_PARAM"});
  EXPECT_EQ(calls, 3);
}

TEST(CudaChecks, PassSuccessThroughEvaluatingTheCallOnce) {
  int calls = 0;
  DML_CUDA_CHECK(returns(cudaSuccess, &calls));
  DML_CUBLAS_CHECK(returns(CUBLAS_STATUS_SUCCESS, &calls));
  DML_CUDNN_CHECK(returns(CUDNN_STATUS_SUCCESS, &calls));
  EXPECT_EQ(calls, 3);
}

// cuDNN's rule: code built against X.Y runs on library X.Z for Z >= Y. Two
// installs (the toolkit's, PyTorch's wheel) can break it.
TEST(Cudnn, LoadedLibraryServesTheHeadersBuiltAgainst) {
  const size_t header = cuda::cudnn_header_version(), library = cuda::cudnn_version();
  EXPECT_EQ(header / 10000, 9u) << "cudnn.h " << header;
  EXPECT_EQ(library / 10000, header / 10000) << "libcudnn " << library << ", cudnn.h " << header;
  EXPECT_GE(library, header) << "libcudnn " << library << " is older than cudnn.h " << header;
}

TEST(CudaSwitches, Tf32AndPoisoningAreOffByDefaultAndToggle) {
  EXPECT_FALSE(cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  EXPECT_TRUE(cuda::allow_tf32());
  cuda::set_allow_tf32(false);
  EXPECT_FALSE(cuda::allow_tf32());

  EXPECT_FALSE(cuda::poison_allocations());
  cuda::set_poison_allocations(true);
  EXPECT_TRUE(cuda::poison_allocations());
  cuda::set_poison_allocations(false);
  EXPECT_FALSE(cuda::poison_allocations());
}

// The harness would pass anything if its comparison did: check that it
// fails out-of-bound values, NaN (a poisoned, unwritten element) and shape
// mismatches, and names the worst element.
TEST(CudaParityHarness, ComparisonFailsWhatItMust) {
  const test::Tolerance tol{1e-3, 1e-2};
  Tensor want = from_vector<double>({1, -2, 100, 0}, {4});
  EXPECT_TRUE(test::all_close(from_vector<double>({1.0005, -2.02, 100.9, -0.001}, {4}), want, tol));

  auto failure = test::all_close(from_vector<double>({1, -2, 102, 0}, {4}), want, tol);
  EXPECT_FALSE(failure);
  EXPECT_NE(std::string(failure.message()).find("1 of 4 elements"), std::string::npos)
      << failure.message();
  EXPECT_NE(std::string(failure.message()).find("element 2 is 102"), std::string::npos)
      << failure.message();

  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto poisoned = test::all_close(from_vector<double>({1, -2.5, 100, nan}, {4}), want, tol);
  EXPECT_FALSE(poisoned);
  EXPECT_NE(std::string(poisoned.message()).find("element 3 is nan"), std::string::npos)
      << poisoned.message();
  EXPECT_FALSE(test::all_close(want.reshape({2, 2}), want, tol));
  // f32 against f64: compared in f64.
  EXPECT_TRUE(test::all_close(want.to(DType::f32), want, tol));
}

// The CUDA reduce_max kernel's schedule, replayed on the host: `rows` threads
// each scan the elements j = row, row + rows, ..., then the rows are merged
// as a tree (half = rows / 2, rows / 4, ...), all by kernels::replaces. On
// rows full of ties and NaNs it must pick the sequential scan's element.
TEST(CudaReduceMaxSchedule, PicksTheFirstExtremeLikeTheSequentialScan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Generator gen(7);
  std::vector<int64_t> levels = randint(0, 4, {5000}, DType::i64, &gen).to_vector<int64_t>();
  std::vector<float> x(levels.begin(), levels.end());
  for (size_t k = 0; k < x.size(); k += 613) x[k] = -0.0f;
  for (size_t k = 1777; k < x.size(); k += 1301) x[k] = nan;  // NaNs in the later rows only
  for (int64_t n : {1, 7, 300, 1777, 5000})
    for (bool take_min : {false, true})
      for (unsigned rows : {1u, 8u, 256u}) {
        std::vector<float> best(rows);
        std::vector<int64_t> best_j(rows, -1);
        for (unsigned r = 0; r < rows; ++r)
          for (int64_t j = r; j < n; j += rows)
            if (kernels::replaces(x[j], j, best[r], best_j[r], take_min)) {
              best[r] = x[j];
              best_j[r] = j;
            }
        for (unsigned half = rows / 2; half > 0; half /= 2)
          for (unsigned r = 0; r < half; ++r)
            if (kernels::replaces(best[r + half], best_j[r + half], best[r], best_j[r], take_min)) {
              best[r] = best[r + half];
              best_j[r] = best_j[r + half];
            }
        float want = 0;
        int64_t want_j = -1;
        cpu::reduce_max(x.data(), &want, &want_j, 1, n, 1, take_min);
        EXPECT_EQ(best_j[0], want_j) << "n " << n << " rows " << rows << " min " << take_min;
      }
}

}  // namespace
}  // namespace dml
