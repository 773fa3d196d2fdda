// Max pooling's forward (kernels/cpu/pool2d.h) on every instruction-set path
// against a plain reference: the value and its position for the stem's
// 3x3/2 window with padding, 2x2/2, 3x3/1, 3x3/3 and adaptive windows, NCHW and
// channels-last planes, f32, f64 and bf16, widths that leave the vector
// loop's row of whole windows every tail, and NaN (which wins: the first
// NaN of the last window row holding one) and -inf inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/pool2d.h"
#include "tests/kernels/isa_paths.h"
#include "tests/kernels/path_test_data.h"

namespace dml::cpu {
namespace {

using kernels::math_t;

class PoolPaths : public test::IsaPathTest {};

struct Window {
  int64_t kernel, stride, pad;  // kernel 0: adaptive, to `adaptive_out`
  int64_t adaptive_out;
};

PoolAxis axis(const Window& k, int64_t in) {
  if (k.kernel == 0) return kernels::adaptive_axis(in, k.adaptive_out);
  return kernels::fixed_axis(in, (in + 2 * k.pad - k.kernel) / k.stride + 1, k.kernel, k.stride,
                             k.pad);
}

// The window of output o along an axis, from its definition.
void window_of(const PoolAxis& a, int64_t o, int64_t* begin, int64_t* end) {
  if (a.kernel == 0) {
    *begin = o * a.in / a.out;
    *end = ((o + 1) * a.in + a.out - 1) / a.out;
    return;
  }
  *begin = std::max<int64_t>(0, o * a.stride - a.pad);
  *end = std::min(a.in, o * a.stride - a.pad + a.kernel);
}

template <class S>
void check_max_pool(bool channels_last) {
  const Window windows[] = {{3, 2, 1, 0}, {2, 2, 0, 0}, {3, 1, 0, 0}, {3, 3, 1, 0}, {0, 0, 0, 3}};
  for (const Window& k : windows)
    for (int64_t width : {1, 3, 5, 19, 34, 35, 36, 40, 70}) {
      if (k.kernel > width + 2 * k.pad) continue;
      const int64_t height = 7, n = 2, c = 3;
      const PoolAxis ay = axis(k, height), ax = axis(k, width);
      const int64_t hw = height * width, ohw = ay.out * ax.out;
      // Values in [-4, 4) with ties, NaN and -inf sprinkled in.
      std::vector<S> x(size_t(n * c * hw));
      for (size_t i = 0; i < x.size(); ++i) {
        const double v = i % 29 == 5 ? NAN : i % 23 == 7 ? -INFINITY : double(i * 37 % 64) / 8 - 4;
        x[i] = kernels::store<S>(math_t<S>(v));
      }
      const PoolPlanes planes =
          channels_last ? PoolPlanes{n * c, c, true} : PoolPlanes::nchw(n * c);
      std::vector<S> y(size_t(n * c * ohw));
      std::vector<int64_t> argmax(y.size(), -1);
      max_pool2d_forward<S>(x.data(), planes, ay, ax, y.data(), argmax.data());
      for (int64_t p = 0; p < n * c; ++p) {
        const auto in = [&](int64_t r) {
          return double(kernels::load(x[size_t(planes.base(p, hw) + r * planes.step())]));
        };
        for (int64_t oy = 0; oy < ay.out; ++oy)
          for (int64_t ox = 0; ox < ax.out; ++ox) {
            int64_t y0, y1, x0, x1;
            window_of(ay, oy, &y0, &y1);
            window_of(ax, ox, &x0, &x1);
            // The largest value, first in row-major order; NaN: the first
            // NaN of the last row that holds one.
            double best = -INFINITY;
            int64_t best_at = y0 * width + x0;
            bool nan = false;
            for (int64_t iy = y0; iy < y1; ++iy) {
              bool row_nan = false;
              for (int64_t ix = x0; ix < x1; ++ix) {
                const double v = in(iy * width + ix);
                if (std::isnan(v) && !row_nan) {
                  nan = row_nan = true;
                  best_at = iy * width + ix;
                } else if (!nan && v > best) {
                  best = v;
                  best_at = iy * width + ix;
                }
              }
            }
            const int64_t at = planes.base(p, ohw) + (oy * ax.out + ox) * planes.step();
            const double got = double(kernels::load(y[size_t(at)]));
            ASSERT_TRUE(nan ? std::isnan(got) : got == best)
                << "kernel " << k.kernel << ", width " << width << ", plane " << p << ", output ("
                << oy << ", " << ox << "): " << got << " want " << (nan ? NAN : best);
            ASSERT_EQ(argmax[size_t(at)], best_at) << "kernel " << k.kernel << ", width " << width
                                                   << ", output (" << oy << ", " << ox << ")";
          }
      }
    }
}

TEST_P(PoolPaths, MaxPoolF32) {
  check_max_pool<float>(false);
}
TEST_P(PoolPaths, MaxPoolF64) {
  check_max_pool<double>(false);
}
TEST_P(PoolPaths, MaxPoolBf16) {
  check_max_pool<bf16>(false);
}
TEST_P(PoolPaths, MaxPoolChannelsLastF32) {
  check_max_pool<float>(true);
}

DML_INSTANTIATE_ON_EVERY_ISA(PoolPaths);

}  // namespace
}  // namespace dml::cpu
