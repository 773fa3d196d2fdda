// index_select (and its backward, index_add), gather, scatter_add, one_hot
// and the index bounds check on CUDA against the CPU backend
// (tests/support/cuda_parity.h), forward and backward, f32 and f64. Skipped where no
// GPU is present.
//
// Bounds. index_select, gather and one_hot copy elements: exact (0, 0). The
// accumulating kernels (index_add in index_select's backward, scatter_add and
// gather's backward) add with atomicAdd in an order that varies from run to
// run, the CPU in index order. Each device's sum of k terms is off by at most
// (k - 1) * u * sum|terms| (u = 2^-24 in f32, 2^-53 in f64), so the two differ
// by at most twice that. Inputs and upstream gradients are N(0, 1), so
// sum|terms| is about 0.8 k. The small cases sum at most k = 11 terms (11
// picks of 3 rows): 2 * 10 * u * 0.8 * 11 = 1.1e-5 (f32), 2e-14 (f64), a
// worst case that real sums stay far below; kSmallSum is about 3x that. The
// large accumulation cases (LargeRepeatedIndexSums) sum up to about 85
// terms: 2 * 85 * u * 68 = 7e-4 (f32), 1.3e-12 (f64); kLargeSum covers it.
// A wrong index or stride is off by O(1), a missed element is NaN (poisoned
// allocations) or misses whole terms.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

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
using test::Tolerance;

constexpr FloatBounds kSmallSum{{3e-5, 1e-6}, {6e-14, 1e-14}};
constexpr FloatBounds kLargeSum{{1e-3, 1e-5}, {2e-12, 1e-13}};

const Device kGpu = Device::cuda(0);

void expect_parity(const OpCase& c, const FloatBounds& forward, const FloatBounds& backward) {
  test::expect_cuda_parity_f32_f64(c, forward, backward);
}

InputSpec N(Shape s) {
  return {std::move(s), test::InputKind::normal};
}
InputSpec Idx(Shape s, int64_t bound) {
  return {std::move(s), test::InputKind::index, bound};
}

// The op table's index cases (repeated indices included: 5 picks of 4 rows).
TEST_F(CudaParity, IndexCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 if (c.name.starts_with("index_select") || c.name == "gather")
                                   // forward copies; backward accumulates
                                   expect_parity(c, kExact, kSmallSum);
                                 else if (c.name == "scatter_add")
                                   // forward accumulates; backward copies
                                   expect_parity(c, kSmallSum, kExact);
                                 else
                                   return false;
                                 return true;
                               }),
            4);
}

TEST_F(CudaParity, OneHotValueCase) {
  EXPECT_EQ(test::check_family(test::value_cases(),
                               [](const OpCase& c) {
                                 if (c.name != "one_hot") return false;
                                 test::expect_cuda_parity(c, DType::f64, {0, 0}, std::nullopt);
                                 return true;
                               }),
            1);
}

// Odd sizes along every axis and each dim of a 3-D input, so a swapped outer,
// n or inner cannot line up.
TEST_F(CudaParity, IndexOpsOnEachDimWithOddSizes) {
  for (int64_t d = 0; d < 3; ++d) {
    Shape x{5, 7, 3};
    Shape idx = x;
    idx[d] = 9;  // more picks than rows: repeats
    expect_parity({"index_select",
                   {N({5, 7, 3}), Idx({11}, x[d])},
                   [d](const Inputs& in) { return index_select(in[0], d, in[1]); }},
                  kExact, kSmallSum);
    expect_parity({"gather",
                   {N(x), Idx(idx, x[d])},
                   [d](const Inputs& in) { return gather(in[0], d, in[1]); }},
                  kExact, kSmallSum);
    expect_parity({"scatter_add",
                   {N(x), Idx(idx, x[d]), N(idx)},
                   [d](const Inputs& in) { return scatter_add(in[0], d, in[1], in[2]); }},
                  kSmallSum, kExact);
  }
}

// Many picks of few rows: each gradient row sums about 40 to 80 terms, so
// an accumulation that drops or doubles a term is far outside the bound.
TEST_F(CudaParity, LargeRepeatedIndexSums) {
  expect_parity({"index_select_repeats",
                 {N({3, 50, 7}), Idx({2000}, 50)},
                 [](const Inputs& in) { return index_select(in[0], 1, in[1]); }},
                kExact, kLargeSum);
  expect_parity({"scatter_add_repeats",
                 {N({6, 25}), Idx({6, 1500}, 25), N({6, 1500})},
                 [](const Inputs& in) { return scatter_add(in[0], 1, in[1], in[2]); }},
                kLargeSum, kExact);
}

// Empty index: an empty output, and a backward that only zeroes.
TEST_F(CudaParity, EmptyIndex) {
  expect_parity({"index_select_empty",
                 {N({4, 3}), Idx({0}, 4)},
                 [](const Inputs& in) { return index_select(in[0], 0, in[1]); }},
                kExact, kExact);
  expect_parity({"gather_empty",
                 {N({3, 4}), Idx({3, 0}, 4)},
                 [](const Inputs& in) { return gather(in[0], 1, in[1]); }},
                kExact, kExact);
  expect_parity({"scatter_add_empty",
                 {N({3, 4}), Idx({3, 0}, 4), N({3, 0})},
                 [](const Inputs& in) { return scatter_add(in[0], 1, in[1], in[2]); }},
                kExact, kExact);
}

// More elements than one grid row (65535 blocks of 256 threads): the
// grid-stride loop must cover the tail.
TEST_F(CudaParity, OutputLargerThanOneGrid) {
  const int64_t inner = (int64_t(65535) * 256) / 16 + 3;
  test::expect_cuda_parity({"index_select_big",
                            {N({1, 3, inner}), Idx({17}, 3)},
                            [](const Inputs& in) { return index_select(in[0], 1, in[1]); }},
                           DType::f32, {0, 0}, std::nullopt);
}

// i64 tensors select too (labels by position), without autograd.
TEST_F(CudaParity, IndexSelectOfIntegers) {
  Tensor labels = from_vector<int64_t>({10, 11, 12, 13, 14, 15}, {3, 2});
  Tensor index = from_vector<int64_t>({2, 0, 2, 1}, {4});
  Tensor want = index_select(labels, 0, index);
  Tensor got = index_select(labels.to(kGpu), 0, index.to(kGpu));
  EXPECT_EQ(got.device(), kGpu);
  EXPECT_EQ(got.to_vector<int64_t>(), want.to_vector<int64_t>());
}

// The error names the op, the first bad index and its position, the same way
// on both devices (only the tensor's device differs in the text).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// `op` on CPU tensors and on their copies on the GPU: the first bad index is
// found and named alike; the texts differ only in the tensor's device.
void expect_same_error(const char* what, const std::vector<Tensor>& in,
                       const std::function<Tensor(const std::vector<Tensor>&)>& op,
                       const std::string& fragment) {
  SCOPED_TRACE(what);
  std::vector<Tensor> on_gpu;
  for (const Tensor& t : in) on_gpu.push_back(t.to(kGpu));
  std::string cpu = error_of([&] { op(in); });
  std::string gpu = error_of([&] { op(on_gpu); });
  EXPECT_NE(cpu.find(fragment), std::string::npos) << cpu;
  EXPECT_NE(cpu.find(what), std::string::npos) << cpu;
  std::string want = cpu;
  const std::string cpu_x = describe(in[0]), gpu_x = describe(on_gpu[0]);
  if (want.find(cpu_x) != std::string::npos) want.replace(want.find(cpu_x), cpu_x.size(), gpu_x);
  EXPECT_EQ(gpu, want);
}

TEST_F(CudaParity, OutOfRangeIndexErrorReadsAsOnTheCpu) {
  // Two bad indices in a long index: the first position is reported.
  std::vector<int64_t> picks(2000, 1);
  picks[700] = 9;
  picks[1500] = -3;
  expect_same_error(
      "index_select", {randn({4, 3}), from_vector<int64_t>(picks, {2000})},
      [](const Inputs& in) { return index_select(in[0], 0, in[1]); },
      "index 9 at position 700 is out of range [0, 4)");
  std::vector<int64_t> rows(3 * 900, 2);
  rows[2101] = -1;
  rows[2500] = 4;
  Tensor index = from_vector<int64_t>(rows, {900, 3});
  expect_same_error(
      "gather", {randn({4, 3}), index}, [](const Inputs& in) { return gather(in[0], 0, in[1]); },
      "index -1 at position 2101 is out of range [0, 4)");
  expect_same_error(
      "scatter_add", {randn({4, 3}), index, randn({900, 3})},
      [](const Inputs& in) { return scatter_add(in[0], 0, in[1], in[2]); },
      "index -1 at position 2101 is out of range [0, 4)");
  expect_same_error(
      "one_hot", {from_vector<int64_t>({0, 3, 5, 1}, {4})},
      [](const Inputs& in) { return one_hot(in[0], 5); },
      "index 5 at position 2 is out of range [0, 5)");
}

}  // namespace
}  // namespace dml
