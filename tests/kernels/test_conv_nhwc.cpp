// The inference kernels on channels-last activations against plain loops in
// double: the convolution (im2col blocks per thread or one threaded GEMM per
// block, the 1x1 direct path, padding at every edge) with each epilogue, its
// Winograd F(2x2, 3x3) form (odd map sizes, both threading paths, in place),
// the max pool and the global pools.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/cpu/pool_nhwc.h"

namespace dml::cpu {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// conv_nhwc's contract, element by element.
std::vector<double> reference_conv(const ConvNhwc& s, const std::vector<float>& x,
                                   const std::vector<float>& w, const std::vector<float>& bias,
                                   const float* residual, bool relu) {
  const int64_t oh = s.out_height(), ow = s.out_width(), c = s.in_channels, o = s.out_channels;
  std::vector<double> y(size_t(s.rows() * o));
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t oc = 0; oc < o; ++oc) {
          const int64_t r = (n * oh + oy) * ow + ox;
          double acc = bias[size_t(oc)] + (residual ? residual[r * o + oc] : 0.0);
          for (int64_t ky = 0; ky < s.kernel; ++ky)
            for (int64_t kx = 0; kx < s.kernel; ++kx) {
              const int64_t iy = oy * s.stride - s.padding + ky,
                            ix = ox * s.stride - s.padding + kx;
              if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
              for (int64_t ic = 0; ic < c; ++ic)
                acc += double(x[size_t(((n * s.height + iy) * s.width + ix) * c + ic)]) *
                       w[size_t(((ky * s.kernel + kx) * c + ic) * o + oc)];
            }
          y[size_t(r * o + oc)] = relu && acc < 0 ? 0 : acc;
        }
  return y;
}

// in_place: y starts as a copy of the residual and is passed as it.
// winograd: conv_winograd on the transformed weights instead of conv_nhwc.
void check_conv(const ConvNhwc& s, bool with_residual, bool relu, int threads,
                bool in_place = false, bool winograd = false) {
  SCOPED_TRACE(::testing::Message()
               << "batch " << s.batch << ", " << s.height << "x" << s.width << "x" << s.in_channels
               << " -> " << s.out_channels << ", k" << s.kernel << " s" << s.stride << " p"
               << s.padding << ", residual " << with_residual << ", relu " << relu << ", threads "
               << threads);
  const auto x = random_floats(size_t(s.batch * s.height * s.width * s.in_channels), 1);
  const auto w = random_floats(size_t(s.depth() * s.out_channels), 2);
  const auto bias = random_floats(size_t(s.out_channels), 3);
  const auto residual = random_floats(size_t(s.rows() * s.out_channels), 4);
  std::vector<float> y = in_place ? residual : std::vector<float>(residual.size(), NAN);
  const float* r = in_place ? y.data() : with_residual ? residual.data() : nullptr;
  if (winograd) {
    ASSERT_TRUE(winograd_applies(s));
    std::vector<float> u(size_t(16 * s.in_channels * s.out_channels));
    winograd_weights(w.data(), s.in_channels, s.out_channels, u.data());
    std::vector<float> scratch(size_t(conv_winograd_scratch_floats(s, threads)));
    conv_winograd(s, x.data(), u.data(), bias.data(), r, relu, y.data(), scratch.data(), threads);
  } else {
    std::vector<float> scratch(size_t(conv_nhwc_scratch_floats(s, threads)));
    conv_nhwc(s, x.data(), w.data(), bias.data(), r, relu, y.data(), scratch.data(), threads);
  }
  const auto want = reference_conv(s, x, w, bias, with_residual ? residual.data() : nullptr, relu);
  const double tolerance = 1e-5 * double(s.depth());
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], want[i], tolerance) << "output element " << i;
}

TEST(ConvNhwc, MatchesPlainLoopsForEveryPathAndEpilogue) {
  // batch, height, width, in, out, kernel, stride, padding
  const ConvNhwc shapes[] = {
      {2, 9, 7, 5, 7, 3, 2, 1},      // padded strided 3x3, few rows: a threaded GEMM per block
      {3, 6, 5, 4, 33, 1, 1, 0},     // direct 1x1
      {2, 8, 8, 6, 10, 1, 2, 0},     // strided 1x1: rows gathered
      {1, 15, 13, 3, 16, 7, 2, 3},   // the ImageNet stem
      {4, 30, 26, 8, 12, 3, 1, 1},   // 3120 rows: blocks per thread
      {5, 24, 20, 16, 20, 1, 1, 0},  // 2400 direct rows: blocks per thread
  };
  for (const ConvNhwc& s : shapes)
    for (int threads : {1, 2, 3}) check_conv(s, threads == 2, threads != 3, threads);
  check_conv(shapes[4], false, false, 2);
  check_conv(shapes[0], true, true, 1);
  // The sum written over the residual, on both threading paths.
  for (int threads : {1, 2}) {
    check_conv(shapes[0], true, true, threads, true);
    check_conv(shapes[4], true, false, threads, true);
    check_conv(shapes[5], true, true, threads, true);
  }
}

TEST(ConvWinograd, MatchesPlainLoopsOnOddMapsBothPathsAndInPlace) {
  const ConvNhwc shapes[] = {
      {2, 7, 5, 6, 9, 3, 1, 1},     // odd sizes: partial tiles at the bottom and right
      {3, 16, 12, 16, 8, 3, 1, 1},  // 144 tiles: blocks per thread
      {2, 1, 1, 4, 5, 3, 1, 1},     // a 1 x 1 map: one tile, mostly padding
  };
  for (const ConvNhwc& s : shapes)
    for (int threads : {1, 2, 3}) {
      check_conv(s, threads == 2, threads != 3, threads, false, true);
      check_conv(s, true, true, threads, true, true);
    }
  EXPECT_FALSE(winograd_applies({1, 8, 8, 4, 4, 3, 2, 1}));
  EXPECT_FALSE(winograd_applies({1, 8, 8, 4, 4, 1, 1, 0}));
}

TEST(PoolNhwc, MaxPoolAndGlobalPoolsMatchPlainLoops) {
  const int64_t n = 2, h = 7, w = 6, c = 19;
  const auto x = random_floats(size_t(n * h * w * c), 5);
  const kernels::PoolAxis ay = kernels::fixed_axis(h, 4, 3, 2, 1),
                          ax = kernels::fixed_axis(w, 3, 3, 2, 1);
  std::vector<float> y(size_t(n * 4 * 3 * c));
  max_pool_nhwc(x.data(), n, c, ay, ax, y.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t oy = 0; oy < 4; ++oy)
      for (int64_t ox = 0; ox < 3; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          float m = -INFINITY;
          for (int64_t iy = std::max<int64_t>(0, 2 * oy - 1); iy < std::min(h, 2 * oy + 2); ++iy)
            for (int64_t ix = std::max<int64_t>(0, 2 * ox - 1); ix < std::min(w, 2 * ox + 2); ++ix)
              m = std::max(m, x[size_t(((i * h + iy) * w + ix) * c + ch)]);
          ASSERT_EQ(y[size_t(((i * 4 + oy) * 3 + ox) * c + ch)], m);
        }

  for (GlobalPoolKind kind :
       {GlobalPoolKind::average, GlobalPoolKind::max, GlobalPoolKind::average_plus_max}) {
    std::vector<float> g(size_t(n * c));
    global_pool_nhwc(x.data(), n, h * w, c, kind, g.data());
    for (int64_t i = 0; i < n; ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        float m = -INFINITY;
        for (int64_t q = 0; q < h * w; ++q) {
          sum += x[size_t((i * h * w + q) * c + ch)];
          m = std::max(m, x[size_t((i * h * w + q) * c + ch)]);
        }
        const double avg = sum / double(h * w);
        const double want = kind == GlobalPoolKind::average ? avg
                            : kind == GlobalPoolKind::max   ? m
                                                            : avg + m;
        ASSERT_NEAR(g[size_t(i * c + ch)], want, 1e-5) << "kind " << int(kind);
      }
  }
}

TEST(PoolNhwc, NchwToNhwcMovesEachElement) {
  const int64_t n = 2, c = 3, hw = 5;
  const auto x = random_floats(size_t(n * c * hw), 6);
  std::vector<float> y(x.size());
  nchw_to_nhwc(x.data(), n, c, hw, y.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t q = 0; q < hw; ++q)
        ASSERT_EQ(y[size_t((i * hw + q) * c + ch)], x[size_t((i * c + ch) * hw + q)]);
}

}  // namespace
}  // namespace dml::cpu
