// The shape ops on CUDA against the CPU backend (tests/support/cuda_parity.h):
// expand, permute / transpose, concat / stack, narrow, slice, reshape and
// clone, forward and backward, f32 and f64; odd shapes, empty tensors, a
// tensor larger than one grid of 65535 x 256 threads, layouts that merge to
// many dims. Skipped where no GPU is present.
//
// Bounds. A shape op copies elements, so its output and the gradients of
// permute, concat, narrow and slice (copies again, or copies into zeros) must
// equal the CPU's bit for bit: kExact. Expand's gradient sums the upstream
// gradient over the broadcast dims: the CPU adds in order, the GPU as a tree,
// so each result differs by rounding of at most n * u * sum|g| (u = 2^-24 in
// f32, 2^-53 in f64); with N(0, 1) gradients and n <= 600 here that is below
// 600 * 6e-8 * 600 = 2e-2 in the very worst case and about sqrt(n) * u *
// sqrt(n) = 4e-5 typically: kSum allows 1e-3 (f32) and 1e-11 (f64) absolute
// plus 1e-5 / 1e-12 relative. A copy that reads the wrong element is off by
// O(1); one that writes nothing leaves the poisoned NaN.
#include <gtest/gtest.h>

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

InputSpec N(Shape s) {
  return {std::move(s), test::InputKind::normal};
}

void expect_parity(const OpCase& c, const FloatBounds& backward = kExact) {
  test::expect_cuda_parity_f32_f64(c, kExact, backward);
}

// The op table's shape cases: the shapes the PyTorch parity tests use.
TEST_F(CudaParity, ShapeCasesOfTheOpTable) {
  EXPECT_EQ(test::check_family(test::op_cases(),
                               [](const OpCase& c) {
                                 const std::string& n = c.name;
                                 if (n == "expand")
                                   expect_parity(c, kSum);
                                 else if (n == "reshape" || n == "slice" || n == "transpose" ||
                                          n == "permute" || n == "concat" || n == "stack" ||
                                          n == "narrow" || n == "clone")
                                   expect_parity(c);
                                 else
                                   return false;
                                 return true;
                               }),
            9);
}

TEST_F(CudaParity, ExpandBroadcastsLeadingAndInnerDims) {
  expect_parity({"expand [3, 1, 5, 1] to [2, 3, 4, 5, 6]",
                 {N({3, 1, 5, 1})},
                 [](const Inputs& x) {
                   return expand(x[0], {2, 3, 4, 5, 6});
                 }},
                kSum);
  // A row repeated 600 times: the gradient sums 600 rows (more than one
  // block of the reduction along n).
  expect_parity({"expand [1, 301] to [600, 301]",
                 {N({1, 301})},
                 [](const Inputs& x) {
                   return expand(x[0], {600, 301});
                 }},
                kSum);
  expect_parity({"expand a scalar",
                 {N({})},
                 [](const Inputs& x) {
                   return expand(x[0], {7, 3});
                 }},
                kSum);
}

TEST_F(CudaParity, ExpandOfAnEmptyTensor) {
  expect_parity({"expand [0, 1] to [0, 3]",
                 {N({0, 1})},
                 [](const Inputs& x) {
                   return expand(x[0], {0, 3});
                 }},
                kSum);
  expect_parity({"expand [2, 1] to [2, 0]",
                 {N({2, 1})},
                 [](const Inputs& x) {
                   return expand(x[0], {2, 0});
                 }},
                kSum);
}

// Odd extents, so a stride taken from the wrong dim cannot line up.
TEST_F(CudaParity, PermuteOddShapes) {
  expect_parity(
      {"permute [3, 17, 33, 5] by (2, 0, 3, 1)", {N({3, 17, 33, 5})}, [](const Inputs& x) {
         return permute(x[0], {2, 0, 3, 1});
       }});
  expect_parity({"transpose [7, 1, 13] dims 0, 2", {N({7, 1, 13})}, [](const Inputs& x) {
                   return transpose(x[0], 0, 2);
                 }});
  expect_parity({"identity permutation of [4, 5]", {N({4, 5})}, [](const Inputs& x) {
                   return permute(x[0], {0, 1});
                 }});
  expect_parity({"permute an empty [0, 3, 2]", {N({0, 3, 2})}, [](const Inputs& x) {
                   return permute(x[0], {2, 0, 1});
                 }});
}

// A reversal of 8 dims of extent 2 merges to nothing: the walk keeps all 8.
TEST_F(CudaParity, PermuteKeepsEightDims) {
  expect_parity({"reverse the dims of [2]^8", {N({2, 2, 2, 2, 2, 2, 2, 2})}, [](const Inputs& x) {
                   return permute(x[0], {7, 6, 5, 4, 3, 2, 1, 0});
                 }});
}

// Nine unmergeable dims exceed the walk; the error says what to do.
TEST_F(CudaParity, PermuteOfNineUnmergeableDimsIsAClearError) {
  Tensor x = randn({2, 2, 2, 2, 2, 2, 2, 2, 2}).to(Device::cuda(0));
  test::expect_error(
      [&] {
        permute(x, {8, 7, 6, 5, 4, 3, 2, 1, 0});
      },
      {"strided_copy", "more than 8 dims", "reshape"});
}

// 2^24 + 3 elements: more than the 65535 blocks x 256 threads of one grid
// pass, so every thread strides at least once.
TEST_F(CudaParity, TransposeLargerThanOneGridPass) {
  test::expect_cuda_parity({"transpose [3, 4097, 1366] dims 1, 2",
                            {N({3, 4097, 1366})},
                            [](const Inputs& x) { return transpose(x[0], 1, 2); }},
                           DType::f32, {0, 0}, test::Tolerance{0, 0});
}

// copy_slab's grid-stride loop past one pass: 4100 x 4101 > 65535 x 256.
TEST_F(CudaParity, ConcatAndNarrowLargerThanOneGridPass) {
  test::expect_cuda_parity({"concat [4100, 4100] and [4100, 1] along dim 1",
                            {N({4100, 4100}), N({4100, 1})},
                            [](const Inputs& x) {
                              return concat({x[0], x[1]}, 1);
                            }},
                           DType::f32, {0, 0}, test::Tolerance{0, 0});
}

TEST_F(CudaParity, ConcatAlongEachDim) {
  for (int64_t d = 0; d < 3; ++d) {
    Shape a{3, 5, 7}, b{3, 5, 7}, c{3, 5, 7};
    b[d] = 2;
    c[d] = 0;  // an empty piece
    expect_parity(
        {detail::concat("concat along dim ", d), {N(a), N(b), N(c)}, [d](const Inputs& x) {
           return concat({x[0], x[1], x[2]}, d);
         }});
  }
  expect_parity({"stack at dim 2", {N({4, 3}), N({4, 3})}, [](const Inputs& x) {
                   return stack({x[0], x[1]}, 2);
                 }});
  expect_parity({"concat of empty tensors", {N({0, 3}), N({0, 3})}, [](const Inputs& x) {
                   return concat({x[0], x[1]}, 0);
                 }});
}

TEST_F(CudaParity, NarrowEachDimAndEdges) {
  for (int64_t d = 0; d < 3; ++d)
    expect_parity({detail::concat("narrow dim ", d, " [2, 5)"),
                   {N({6, 7, 9})},
                   [d](const Inputs& x) { return narrow(x[0], d, 2, 3); }});
  expect_parity(
      {"narrow to nothing", {N({4, 5})}, [](const Inputs& x) { return narrow(x[0], 1, 5, 0); }});
  expect_parity(
      {"narrow the whole dim", {N({4, 5})}, [](const Inputs& x) { return narrow(x[0], 0, 0, 4); }});
  expect_parity(
      {"slice of rows", {N({9, 3, 2})}, [](const Inputs& x) { return x[0].slice(2, 7) * 1.0; }});
}

// Integer tensors move through the same kernels (elements as raw bytes).
TEST_F(CudaParity, ShapeOpsMoveIntegerTensors) {
  Tensor idx = randint(0, 1000, {5, 4, 3}, DType::i64);
  Tensor mask = randint(0, 2, {5, 4, 3}, DType::i64).to(DType::u8);
  for (const Tensor& t : {idx, mask, randn({5, 4, 3}).to(DType::f16)}) {
    Tensor g = t.to(Device::cuda(0));
    EXPECT_TRUE(
        test::all_close(permute(g, {2, 0, 1}).to(Device::cpu()), permute(t, {2, 0, 1}), {0, 0}))
        << describe(t);
    EXPECT_TRUE(test::all_close(concat({g, g}, 1).to(Device::cpu()), concat({t, t}, 1), {0, 0}))
        << describe(t);
    EXPECT_TRUE(test::all_close(narrow(g, 2, 1, 2).to(Device::cpu()), narrow(t, 2, 1, 2), {0, 0}))
        << describe(t);
    EXPECT_TRUE(test::all_close(expand(g.slice(0, 1), {3, 5, 4, 3}).to(Device::cpu()),
                                expand(t.slice(0, 1), {3, 5, 4, 3}), {0, 0}))
        << describe(t);
  }
}

TEST_F(CudaParity, ConcatOfMixedDevicesIsAnError) {
  Tensor a = randn({2, 3}), b = randn({2, 3}).to(Device::cuda(0));
  test::expect_error(
      [&] {
        concat({a, b}, 0);
      },
      {"concat", "different devices", "f32[2, 3] cpu", "f32[2, 3] cuda:0"});
}

}  // namespace
}  // namespace dml
