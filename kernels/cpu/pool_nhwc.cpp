#include "kernels/cpu/pool_nhwc.h"

#include <algorithm>

#include "base/parallel.h"
#include "kernels/cpu/target_clones.h"

namespace dml::cpu {

namespace {

// y[j] = max(y[j], x[j]); NaN propagates as in the training engine's pooling.
DML_TARGET_CLONES void max_into(float* __restrict y, const float* __restrict x, int64_t c) {
  for (int64_t j = 0; j < c; ++j) y[j] = (x[j] > y[j] || x[j] != x[j]) ? x[j] : y[j];
}

DML_TARGET_CLONES void add_into(float* __restrict y, const float* __restrict x, int64_t c) {
  for (int64_t j = 0; j < c; ++j) y[j] += x[j];
}

}  // namespace

void nchw_to_nhwc(const float* x, int64_t n, int64_t c, int64_t hw, float* y) {
  parallel_for(
      n * hw,
      [&](int64_t p) {
        const int64_t i = p / hw, q = p % hw;
        const float* src = x + i * c * hw + q;
        float* dst = y + p * c;
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] = src[ch * hw];
      },
      kParallelGrain / std::max<int64_t>(c, 1));
}

void max_pool_nhwc(const float* x, int64_t n, int64_t c, const kernels::PoolAxis& ay,
                   const kernels::PoolAxis& ax, float* y) {
  parallel_for(
      n * ay.out * ax.out,
      [&](int64_t p) {
        const int64_t i = p / (ay.out * ax.out), oy = p / ax.out % ay.out, ox = p % ax.out;
        const kernels::PoolWindow wy = kernels::pool_window(ay, oy),
                                  wx = kernels::pool_window(ax, ox);
        float* dst = y + p * c;
        std::copy_n(x + ((i * ay.in + wy.begin) * ax.in + wx.begin) * c, c, dst);
        for (int64_t iy = wy.begin; iy < wy.end; ++iy)
          for (int64_t ix = wx.begin; ix < wx.end; ++ix)
            max_into(dst, x + ((i * ay.in + iy) * ax.in + ix) * c, c);
      },
      kParallelGrain / std::max<int64_t>(c, 1));
}

void global_pool_nhwc(const float* x, int64_t n, int64_t hw, int64_t c, GlobalPoolKind kind,
                      float* y) {
  // Sums in f32 position by position: the training engine's pooling adds the
  // same terms, so the two agree within f32 rounding.
  parallel_for(
      n,
      [&](int64_t i) {
        const float* img = x + i * hw * c;
        float* dst = y + i * c;
        if (kind == GlobalPoolKind::max) {
          std::copy_n(img, c, dst);
          for (int64_t q = 1; q < hw; ++q) max_into(dst, img + q * c, c);
          return;
        }
        std::fill(dst, dst + c, 0.f);
        for (int64_t q = 0; q < hw; ++q) add_into(dst, img + q * c, c);
        for (int64_t ch = 0; ch < c; ++ch) dst[ch] /= float(hw);
        if (kind == GlobalPoolKind::average_plus_max) {
          // The maximum goes to a second pass over the image (still in cache).
          for (int64_t ch = 0; ch < c; ++ch) {
            float m = img[ch];
            for (int64_t q = 1; q < hw; ++q) {
              const float v = img[q * c + ch];
              m = (v > m || v != v) ? v : m;
            }
            dst[ch] += m;
          }
        }
      },
      1);
}

}  // namespace dml::cpu
