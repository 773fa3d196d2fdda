// The training Winograd F(2x2, 3x3) convolution (NCHW) on every instruction-
// set path against direct convolutions in double: forward (with and without
// bias), backward data and backward filter (with the bias gradient), on maps
// of odd and even sides down to 1x1, channel counts off the vector width,
// one and several images, and the ResNet stages' shapes; and conv2d.h's
// f32 passes where they hand the shape to it.
//
// Error bound per element: the GEMM tests' (k + 2) eps sum |a b|
// (gemm_reference.h) over the 16 products' sums, whose terms are
// transformed tiles. The transforms' coefficients are 0, +-1 and +-1/2, so a
// transformed input tile is at most the sum of its patch's |x| (4x4), an
// output gradient's the sum of its tile's |dy| (2x2), a transformed kernel
// the sum of its |w|, and the output transforms add at most 9 (A^T . A) or
// 4 (G^T . G) of the sums. Hence 16 (k + 16) eps times the sum over the
// GEMMs' terms of those magnitudes' products: k = channels summed (forward,
// backward data) or tiles (backward filter). A bound on the direct sum's own
// terms would not hold: a tile's transform mixes in inputs that one output
// of it never reads, so their roundings reach outputs of small magnitude.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_winograd_nchw.h"
#include "kernels/cpu/isa.h"
#include "tests/kernels/isa_paths.h"

namespace dml::cpu {
namespace {

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}

ConvShape shape(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o) {
  return {n, c, h, w, o, 3, 3, 1, 1, 1, 1, 1, 1, 1};
}

std::string describe(const ConvShape& s) {
  return std::string(isa_name(active_isa())) + " n=" + std::to_string(s.n) +
         " c=" + std::to_string(s.c) + " " + std::to_string(s.h) + "x" + std::to_string(s.w) +
         " o=" + std::to_string(s.o);
}

// An empty batch (zero gradients), odd and even sides, 1x1 and 2x2 maps,
// channels below and off 16, n = 1 and 3, then ResNet stages (small
// batches).
const ConvShape kShapes[] = {
    shape(0, 16, 4, 4, 16),   shape(1, 16, 1, 1, 16),   shape(3, 17, 2, 2, 19),
    shape(1, 5, 7, 5, 3),     shape(3, 20, 5, 6, 33),   shape(1, 16, 8, 8, 16),
    shape(2, 3, 9, 4, 7),     shape(1, 33, 13, 11, 18), shape(2, 64, 16, 16, 64),
    shape(1, 128, 8, 8, 128), shape(1, 256, 4, 4, 256), shape(1, 512, 2, 2, 512)};

double eps() {
  return std::ldexp(1.0, -23);
}

// The direct sum's value and the bound on the Winograd result's error.
struct Expected {
  std::vector<double> want, bound;
};

void expect_near(const std::vector<float>& got, const Expected& e, const std::string& what) {
  ASSERT_EQ(got.size(), e.want.size());
  int64_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double(got[i]) - e.want[i]) <= e.bound[i]) && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << " = " << got[i] << ", want " << e.want[i]
                    << " +- " << e.bound[i];
}

double bound(int64_t terms, double magnitude) {
  return 16.0 * double(terms + 16) * eps() * magnitude;
}

// t[n, c, y, x] (`channels` planes per image) or 0 outside the map.
double at(const ConvShape& s, const std::vector<float>& t, int64_t channels, int64_t n, int64_t c,
          int64_t y, int64_t x) {
  if (y < 0 || y >= s.h || x < 0 || x >= s.w) return 0;
  return t[size_t(((n * channels + c) * s.h + y) * s.w + x)];
}

double weight(const ConvShape& s, const std::vector<float>& w, int64_t o, int64_t c, int64_t ky,
              int64_t kx) {
  return w[size_t(((o * s.c + c) * 3 + ky) * 3 + kx)];
}

// Per image, channel and 2x2 tile (rows ceil(h / 2), columns ceil(w / 2)):
// the sum of |t| over the size x size square from (2 ty + from, 2 tx + from).
struct TileSums {
  int64_t rows, cols, channels;
  std::vector<double> sums;
  double operator()(int64_t n, int64_t c, int64_t y, int64_t x) const {
    return sums[size_t(((n * channels + c) * rows + y / 2) * cols + x / 2)];
  }
};

TileSums tile_sums(const ConvShape& s, const std::vector<float>& t, int64_t channels, int from,
                   int size) {
  TileSums r{(s.h + 1) / 2, (s.w + 1) / 2, channels, {}};
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t ty = 0; ty < r.rows; ++ty)
        for (int64_t tx = 0; tx < r.cols; ++tx) {
          double sum = 0;
          for (int i = 0; i < size; ++i)
            for (int j = 0; j < size; ++j)
              sum += std::fabs(at(s, t, channels, n, c, 2 * ty + from + i, 2 * tx + from + j));
          r.sums.push_back(sum);
        }
  return r;
}

// The sum of |w| per kernel, [o, c].
std::vector<double> kernel_sums(const ConvShape& s, const std::vector<float>& w) {
  std::vector<double> r(size_t(s.o * s.c), 0.0);
  for (size_t i = 0; i < w.size(); ++i) r[i / 9] += std::fabs(w[i]);
  return r;
}

Expected forward(const ConvShape& s, const std::vector<float>& x, const std::vector<float>& w,
                 const float* bias) {
  const TileSums patch = tile_sums(s, x, s.c, -1, 4);
  const std::vector<double> kernel = kernel_sums(s, w);
  Expected e;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t o = 0; o < s.o; ++o)
      for (int64_t y = 0; y < s.h; ++y)
        for (int64_t xx = 0; xx < s.w; ++xx) {
          double sum = bias ? bias[o] : 0.0, mag = std::fabs(sum);
          for (int64_t c = 0; c < s.c; ++c) {
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx)
                sum += weight(s, w, o, c, ky, kx) * at(s, x, s.c, n, c, y - 1 + ky, xx - 1 + kx);
            mag += kernel[size_t(o * s.c + c)] * patch(n, c, y, xx);
          }
          e.want.push_back(sum);
          e.bound.push_back(bound(s.c, mag));
        }
  return e;
}

Expected backward_data(const ConvShape& s, const std::vector<float>& dy,
                       const std::vector<float>& w) {
  const TileSums patch = tile_sums(s, dy, s.o, -1, 4);
  const std::vector<double> kernel = kernel_sums(s, w);
  Expected e;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t c = 0; c < s.c; ++c)
      for (int64_t y = 0; y < s.h; ++y)
        for (int64_t x = 0; x < s.w; ++x) {
          double sum = 0, mag = 0;
          for (int64_t o = 0; o < s.o; ++o) {
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx)
                sum += weight(s, w, o, c, ky, kx) * at(s, dy, s.o, n, o, y + 1 - ky, x + 1 - kx);
            mag += kernel[size_t(o * s.c + c)] * patch(n, o, y, x);
          }
          e.want.push_back(sum);
          e.bound.push_back(bound(s.o, mag));
        }
  return e;
}

Expected backward_filter(const ConvShape& s, const std::vector<float>& x,
                         const std::vector<float>& dy) {
  const TileSums patch = tile_sums(s, x, s.c, -1, 4), grad = tile_sums(s, dy, s.o, 0, 2);
  Expected e;
  for (int64_t o = 0; o < s.o; ++o)
    for (int64_t c = 0; c < s.c; ++c) {
      double mag = 0;
      for (int64_t n = 0; n < s.n; ++n)
        for (int64_t y = 0; y < s.h; y += 2)
          for (int64_t xx = 0; xx < s.w; xx += 2) mag += grad(n, o, y, xx) * patch(n, c, y, xx);
      for (int64_t ky = 0; ky < 3; ++ky)
        for (int64_t kx = 0; kx < 3; ++kx) {
          double sum = 0;
          for (int64_t n = 0; n < s.n; ++n)
            for (int64_t y = 0; y < s.h; ++y)
              for (int64_t xx = 0; xx < s.w; ++xx)
                sum += at(s, dy, s.o, n, o, y, xx) * at(s, x, s.c, n, c, y - 1 + ky, xx - 1 + kx);
          e.want.push_back(sum);
          e.bound.push_back(bound(s.n * patch.rows * patch.cols, mag));
        }
    }
  return e;
}

Expected bias_gradient(const ConvShape& s, const std::vector<float>& dy) {
  Expected e;
  for (int64_t o = 0; o < s.o; ++o) {
    double sum = 0, mag = 0;
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t i = 0; i < s.h * s.w; ++i) {
        const double v = dy[size_t((n * s.o + o) * s.h * s.w + i)];
        sum += v;
        mag += std::fabs(v);
      }
    e.want.push_back(sum);
    e.bound.push_back(double(s.n * s.h * s.w + 2) * eps() * mag);
  }
  return e;
}

class WinogradConvNchw : public test::IsaPathTest {};

TEST_P(WinogradConvNchw, Forward) {
  for (const ConvShape& s : kShapes) {
    const auto x = random_floats(s.input_size(), 1), w = random_floats(s.weight_size(), 2),
               bias = random_floats(s.o, 3);
    for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
      std::vector<float> y(size_t(s.output_size()), NAN);
      winograd_conv_forward(s, x.data(), w.data(), b, y.data());
      expect_near(y, forward(s, x, w, b), describe(s) + (b ? " bias" : ""));
    }
  }
}

TEST_P(WinogradConvNchw, BackwardData) {
  for (const ConvShape& s : kShapes) {
    const auto dy = random_floats(s.output_size(), 4), w = random_floats(s.weight_size(), 5);
    std::vector<float> dx(size_t(s.input_size()), NAN);
    winograd_conv_backward_data(s, dy.data(), w.data(), dx.data());
    expect_near(dx, backward_data(s, dy, w), describe(s));
  }
}

TEST_P(WinogradConvNchw, BackwardFilter) {
  for (const ConvShape& s : kShapes) {
    const auto x = random_floats(s.input_size(), 6), dy = random_floats(s.output_size(), 7);
    std::vector<float> dw(size_t(s.weight_size()), NAN), db(size_t(s.o), NAN);
    winograd_conv_backward_filter(s, x.data(), dy.data(), dw.data(), db.data());
    expect_near(dw, backward_filter(s, x, dy), describe(s));
    expect_near(db, bias_gradient(s, dy), describe(s) + " bias");
    std::vector<float> dw_alone(dw.size(), NAN);
    winograd_conv_backward_filter(s, x.data(), dy.data(), dw_alone.data(), nullptr);
    expect_near(dw_alone, backward_filter(s, x, dy), describe(s) + " without the bias gradient");
  }
}

// conv2d.h's f32 passes on shapes the rule gives to Winograd on the vector
// paths (and to the direct convolution on the portable one).
TEST_P(WinogradConvNchw, Conv2dPassesMatchDirectSums) {
  for (const ConvShape& s : {shape(2, 16, 6, 5, 16), shape(1, 24, 9, 9, 40)}) {
    const auto x = random_floats(s.input_size(), 8), w = random_floats(s.weight_size(), 9),
               bias = random_floats(s.o, 10), dy = random_floats(s.output_size(), 11);
    std::vector<float> y(size_t(s.output_size()), NAN), dx(size_t(s.input_size()), NAN),
        dw(size_t(s.weight_size()), NAN), db(size_t(s.o), NAN);
    conv2d_forward<float>(s, x.data(), w.data(), bias.data(), y.data());
    conv2d_backward_data<float>(s, dy.data(), w.data(), dx.data());
    conv2d_backward_filter<float>(s, x.data(), dy.data(), dw.data(), db.data());
    expect_near(y, forward(s, x, w, bias.data()), describe(s) + " conv2d_forward");
    expect_near(dx, backward_data(s, dy, w), describe(s) + " conv2d_backward_data");
    expect_near(dw, backward_filter(s, x, dy), describe(s) + " conv2d_backward_filter");
    expect_near(db, bias_gradient(s, dy), describe(s) + " conv2d_backward_filter bias");
  }
}

// The rule conv2d.cpp dispatches by: the shape, enough channels, maps of
// 4x4 or more, a vector path.
TEST_P(WinogradConvNchw, AppliesToStrideOnePaddedThreeByThree) {
  const bool vector_path = isa() >= Isa::avx2;
  EXPECT_EQ(winograd_conv_applies(shape(2, 64, 16, 16, 64)), vector_path);
  EXPECT_EQ(winograd_conv_applies(shape(2, 16, 7, 9, 16)), vector_path);
  EXPECT_EQ(winograd_conv_applies(shape(2, 256, 4, 4, 256)), vector_path);
  EXPECT_FALSE(winograd_conv_applies(shape(2, 512, 2, 2, 512)));
  EXPECT_FALSE(winograd_conv_applies(shape(2, 64, 16, 3, 64)));
  EXPECT_FALSE(winograd_conv_applies(shape(2, 8, 16, 16, 64)));
  EXPECT_FALSE(winograd_conv_applies(shape(2, 64, 16, 16, 8)));
  ConvShape s = shape(2, 64, 16, 16, 64);
  s.stride_h = s.stride_w = 2;
  EXPECT_FALSE(winograd_conv_applies(s));
  s = shape(2, 64, 16, 16, 64);
  s.dil_h = s.dil_w = 2;
  s.pad_h = s.pad_w = 2;
  EXPECT_FALSE(winograd_conv_applies(s));
  s = shape(2, 64, 16, 16, 64);
  s.groups = 2;
  EXPECT_FALSE(winograd_conv_applies(s));
  s = shape(2, 64, 16, 16, 64);
  s.kh = s.kw = 5;
  s.pad_h = s.pad_w = 2;
  EXPECT_FALSE(winograd_conv_applies(s));
}

DML_INSTANTIATE_ON_EVERY_ISA(WinogradConvNchw);

}  // namespace
}  // namespace dml::cpu
