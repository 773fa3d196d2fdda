#include "kernels/cpu/pool_nhwc.h"

#include <algorithm>

#include "base/parallel.h"
#include "kernels/cpu/isa_dispatch.h"

namespace dml::cpu {

namespace {

// y[j] = max(y[j], x[j]); NaN propagates as in the training engine's pooling.
DML_ISA_BODY void max_into(float* __restrict y, const float* __restrict x, int64_t c) {
  for (int64_t j = 0; j < c; ++j) y[j] = (x[j] > y[j] || x[j] != x[j]) ? x[j] : y[j];
}

DML_ISA_BODY void add_into(float* __restrict y, const float* __restrict x, int64_t c) {
  for (int64_t j = 0; j < c; ++j) y[j] += x[j];
}

// y (c floats) = the maximum over a window of rows x cols pixels from x, its
// pixels c floats apart along a row and its rows `row_floats` apart.
DML_ISA_BODY void max_window(float* __restrict y, const float* __restrict x, int64_t rows,
                             int64_t cols, int64_t row_floats, int64_t c) {
  std::copy_n(x, c, y);
  for (int64_t iy = 0; iy < rows; ++iy)
    for (int64_t ix = 0; ix < cols; ++ix) max_into(y, x + iy * row_floats + ix * c, c);
}

// y (c floats) = the global pool of one image x (hw pixels of c floats).
DML_ISA_BODY void global_pool_image(float* __restrict y, const float* __restrict x, int64_t hw,
                                    int64_t c, GlobalPoolKind kind) {
  // Sums in f32 position by position: the training engine's pooling adds the
  // same terms, so the two agree within f32 rounding.
  if (kind == GlobalPoolKind::max) {
    std::copy_n(x, c, y);
    for (int64_t q = 1; q < hw; ++q) max_into(y, x + q * c, c);
    return;
  }
  std::fill(y, y + c, 0.f);
  for (int64_t q = 0; q < hw; ++q) add_into(y, x + q * c, c);
  for (int64_t ch = 0; ch < c; ++ch) y[ch] /= float(hw);
  if (kind == GlobalPoolKind::average_plus_max) {
    // The maximum goes to a second pass over the image (still in cache).
    for (int64_t ch = 0; ch < c; ++ch) {
      float m = x[ch];
      for (int64_t q = 1; q < hw; ++q) {
        const float v = x[q * c + ch];
        m = (v > m || v != v) ? v : m;
      }
      y[ch] += m;
    }
  }
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
  const Isa isa = active_isa();
  parallel_for(
      n * ay.out * ax.out,
      [&](int64_t p) {
        const int64_t i = p / (ay.out * ax.out), oy = p / ax.out % ay.out, ox = p % ax.out;
        const kernels::PoolWindow wy = kernels::pool_window(ay, oy),
                                  wx = kernels::pool_window(ax, ox);
        run_for_isa<max_window>(isa, y + p * c, x + ((i * ay.in + wy.begin) * ax.in + wx.begin) * c,
                                wy.end - wy.begin, wx.end - wx.begin, ax.in * c, c);
      },
      kParallelGrain / std::max<int64_t>(c, 1));
}

void global_pool_nhwc(const float* x, int64_t n, int64_t hw, int64_t c, GlobalPoolKind kind,
                      float* y) {
  const Isa isa = active_isa();
  parallel_for(
      n,
      [&](int64_t i) {
        run_for_isa<global_pool_image>(isa, y + i * c, x + i * hw * c, hw, c, kind);
      },
      1);
}

}  // namespace dml::cpu
