// The f32 convolution kernels (kernels/cpu/conv2d.h) on every instruction-set
// path against a plain double loop: forward with bias, backward data,
// backward filter with the bias gradient. On the avx512 paths these run the
// column source (conv2d_columns.h) through both SGEMM packings and the
// k-contiguous path, backward data of stride 1 as a forward convolution and
// of stride 2 in bands of rows (maps of 256 outputs or more); below it,
// im2col. Shapes: ResNet's (1x1 stride 1 and 2, 3x3 stride 1 and 2, the 7x7
// stride-2 stem on 3 channels), and odd ones: sizes no multiple of 16, odd
// inputs at stride 2, one image, groups, dilation, a 1x1 output, padding
// larger than the kernel reaches, maps wide enough for a GEMM of their own.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "tests/kernels/conv_reference.h"
#include "tests/kernels/isa_paths.h"

namespace dml::cpu {
namespace {

using kernels::ConvShape;

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(rng);
  return v;
}

// f32 summation of `terms` products: error at most about terms * 2^-24 times
// the sum of their magnitudes (plus the final rounding); twice that bound.
void expect_near(const std::vector<float>& got, const dml::test::Sums& want, int64_t terms,
                 const char* what) {
  ASSERT_EQ(got.size(), want.value.size());
  const double gamma = 2.0 * double(terms + 2) * std::ldexp(1.0, -24);
  int64_t bad = 0;
  for (size_t e = 0; e < got.size(); ++e) {
    const double tol = gamma * want.magnitude[e] + 1e-30;
    if (!(std::abs(got[e] - want.value[e]) <= tol) && ++bad <= 5)
      ADD_FAILURE() << what << "[" << e << "] = " << got[e] << ", want " << want.value[e]
                    << " (tolerance " << tol << ")";
  }
  EXPECT_EQ(bad, 0) << what << ": elements outside the bound";
}

class Conv2dPaths : public test::IsaPathTest {};

void check_all_directions(const ConvShape& s) {
  SCOPED_TRACE(::testing::Message()
               << "x " << s.n << "x" << s.c << "x" << s.h << "x" << s.w << ", w " << s.o << "x"
               << s.c / s.groups << "x" << s.kh << "x" << s.kw << ", stride " << s.stride_h << ","
               << s.stride_w << ", pad " << s.pad_h << "," << s.pad_w << ", dil " << s.dil_h << ","
               << s.dil_w << ", groups " << s.groups);
  const std::vector<float> x = random_floats(s.input_size(), 1),
                           w = random_floats(s.weight_size(), 2),
                           dy = random_floats(s.output_size(), 3), bias = random_floats(s.o, 4);
  const int64_t ohw = s.out_h() * s.out_w(), cg = s.c / s.groups, og = s.o / s.groups;

  dml::test::ConvSums r = dml::test::conv_sums(s, x, w, dy);
  for (int64_t e = 0; e < s.output_size(); ++e) r.y.add(e, bias[size_t(e / ohw % s.o)]);
  const dml::test::Sums &y = r.y, &dx = r.dx, &dw = r.dw, &db = r.db;

  std::vector<float> got_y(size_t(s.output_size()), NAN), got_dx(size_t(s.input_size()), NAN),
      got_dw(size_t(s.weight_size()), NAN), got_db(size_t(s.o), NAN);
  conv2d_forward<float>(s, x.data(), w.data(), bias.data(), got_y.data());
  conv2d_backward_data<float>(s, dy.data(), w.data(), got_dx.data());
  conv2d_backward_filter<float>(s, x.data(), dy.data(), got_dw.data(), got_db.data());
  expect_near(got_y, y, cg * s.kh * s.kw + 1, "y");
  expect_near(got_dx, dx, og * s.kh * s.kw, "dx");
  expect_near(got_dw, dw, s.n * ohw, "dw");
  expect_near(got_db, db, s.n * ohw, "db");
}

// {n, c, h, w,  o, kh, kw,  stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups}
TEST_P(Conv2dPaths, PointwiseStride1) {
  check_all_directions({2, 32, 9, 9, 24, 1, 1, 1, 1, 0, 0, 1, 1, 1});
  check_all_directions({1, 40, 33, 34, 36, 1, 1, 1, 1, 0, 0, 1, 1, 1});  // one image, own GEMM
}
TEST_P(Conv2dPaths, PointwiseStride2) {
  check_all_directions({2, 24, 11, 11, 20, 1, 1, 2, 2, 0, 0, 1, 1, 1});
  check_all_directions({1, 12, 35, 33, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1});  // dx in bands
}
TEST_P(Conv2dPaths, ThreeByThreeStride1) {
  check_all_directions({2, 19, 13, 17, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1});
  check_all_directions({9, 40, 4, 5, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1});   // k > 256, many images
  check_all_directions({2, 8, 33, 35, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1});  // a GEMM per image
  check_all_directions({2, 3, 40, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1});  // dw: more outputs than k
}
TEST_P(Conv2dPaths, ThreeByThreeStride2OddInput) {
  check_all_directions({3, 17, 15, 13, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1});
  check_all_directions({2, 64, 45, 41, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1});  // dx in three bands
}
TEST_P(Conv2dPaths, StemSevenBySevenStride2) {
  check_all_directions({2, 3, 29, 31, 18, 7, 7, 2, 2, 3, 3, 1, 1, 1});
  check_all_directions({2, 3, 37, 35, 18, 7, 7, 2, 2, 3, 3, 1, 1, 1});  // dx in bands
}
TEST_P(Conv2dPaths, GroupsAndDilation) {
  check_all_directions({1, 16, 12, 14, 22, 3, 3, 1, 1, 2, 2, 2, 2, 2});
  check_all_directions({2, 16, 10, 9, 12, 3, 3, 2, 2, 1, 1, 1, 1, 4});
}
TEST_P(Conv2dPaths, OneByOneOutput) {
  check_all_directions({4, 20, 3, 3, 17, 3, 3, 1, 1, 0, 0, 1, 1, 1});
}
TEST_P(Conv2dPaths, UnevenKernelAndWidePadding) {
  check_all_directions({2, 10, 9, 8, 12, 3, 1, 1, 1, 1, 0, 1, 1, 1});
  check_all_directions(
      {2, 6, 5, 7, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1});  // padding past the kernel's reach
}

DML_INSTANTIATE_ON_EVERY_ISA(Conv2dPaths);

}  // namespace
}  // namespace dml::cpu
