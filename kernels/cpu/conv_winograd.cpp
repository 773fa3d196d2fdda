#include "kernels/cpu/conv_winograd.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/winograd_f2x3.h"

namespace dml::cpu {

namespace {

constexpr int kTile = 16;  // 4 x 4 transformed values per tile
// A block's transformed inputs and products (16 x tiles x (C + O) floats)
// aim at 8 MiB, with at least kMinTiles tiles (the weights of each of the 16
// GEMMs are packed once per block) and at most kMaxTiles.
constexpr int64_t kBlockFloats = int64_t(2) << 20;
constexpr int64_t kMinTiles = 32, kMaxTiles = 256;

int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

struct Tiles {
  int64_t rows, cols;  // tiles per image, down and across
  int64_t count;       // over the batch
};

Tiles tiles_of(const ConvNhwc& s) {
  const int64_t rows = ceil_div(s.height, 2), cols = ceil_div(s.width, 2);
  return {rows, cols, s.batch * rows * cols};
}

struct Blocking {
  int64_t blocks, tiles;
  bool per_thread;  // else one block after another, its 16 GEMMs spread over the threads
};

Blocking blocking(const ConvNhwc& s, int threads) {
  const int64_t total = tiles_of(s).count;
  const int64_t target =
      std::clamp(kBlockFloats / (kTile * (s.in_channels + s.out_channels)), kMinTiles, kMaxTiles);
  int64_t blocks = ceil_div(total, target);
  if (threads > 1) {
    const int64_t spread = ceil_div(blocks, threads) * threads;
    if (ceil_div(total, spread) < kMinTiles) return {blocks, ceil_div(total, blocks), false};
    blocks = spread;
  }
  return {blocks, ceil_div(total, blocks), true};
}

// V = B^T d B (winograd_f2x3.h) for `count` tiles from `first`: v[xi][t][c],
// xi = 4 i + j, rows of C floats.
DML_ISA_BODY void transform_inputs(const ConvNhwc& s, const float* __restrict x, int64_t first,
                                   int64_t count, const float* __restrict zeros,
                                   float* __restrict v) {
  const Tiles t = tiles_of(s);
  const int64_t c = s.in_channels, stride = count * c;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t tile = first + k;
    const int64_t n = tile / (t.rows * t.cols), ty = tile / t.cols % t.rows, tx = tile % t.cols;
    const float* p[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int64_t iy = 2 * ty - 1 + i, ix = 2 * tx - 1 + j;
        p[i][j] = iy < 0 || iy >= s.height || ix < 0 || ix >= s.width
                      ? zeros
                      : x + ((n * s.height + iy) * s.width + ix) * c;
      }
    float* out = v + k * c;
#pragma GCC ivdep
    for (int64_t ch = 0; ch < c; ++ch) {
      std::array<float, 4> r[4];  // r[j][i]: column j transformed
      for (int j = 0; j < 4; ++j)
        r[j] = winograd::input(p[0][j][ch], p[1][j][ch], p[2][j][ch], p[3][j][ch]);
      for (int i = 0; i < 4; ++i) {
        const auto row = winograd::input(r[0][i], r[1][i], r[2][i], r[3][i]);
        for (int j = 0; j < 4; ++j) out[(4 * i + j) * stride + ch] = row[j];
      }
    }
  }
}

// Y = A^T M A per tile (winograd_f2x3.h), then y = f(Y + bias (+
// residual)) at the outputs inside the map. m[xi][t][o].
template <bool kResidual, bool kRelu>
DML_ISA_BODY void transform_outputs(const ConvNhwc& s, const float* __restrict m, int64_t first,
                                    int64_t count, const float* bias, const float* residual,
                                    float* y) {
  const Tiles t = tiles_of(s);
  const int64_t o = s.out_channels, stride = count * o;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t tile = first + k;
    const int64_t n = tile / (t.rows * t.cols), ty = tile / t.cols % t.rows, tx = tile % t.cols;
    const int64_t oy = 2 * ty, ox = 2 * tx;
    const bool down = oy + 1 < s.height, across = ox + 1 < s.width;
    const int64_t at[2][2] = {
        {((n * s.height + oy) * s.width + ox) * o, ((n * s.height + oy) * s.width + ox + 1) * o},
        {((n * s.height + oy + 1) * s.width + ox) * o,
         ((n * s.height + oy + 1) * s.width + ox + 1) * o}};
    const float* in = m + k * o;
#pragma GCC ivdep
    for (int64_t ch = 0; ch < o; ++ch) {
      std::array<float, 2> r[4];  // r[j][a]: column j transformed
      for (int j = 0; j < 4; ++j)
        r[j] = winograd::output(in[(0 + j) * stride + ch], in[(4 + j) * stride + ch],
                                in[(8 + j) * stride + ch], in[(12 + j) * stride + ch]);
      for (int a = 0; a < 2; ++a) {
        if (a == 1 && !down) break;
        const auto row = winograd::output(r[0][a], r[1][a], r[2][a], r[3][a]);
        for (int b = 0; b < 2; ++b) {
          if (b == 1 && !across) break;
          float value = row[b] + bias[ch];
          if constexpr (kResidual) value += residual[at[a][b] + ch];
          if constexpr (kRelu) value = value > 0.f ? value : 0.f;
          y[at[a][b] + ch] = value;
        }
      }
    }
  }
}

void output_block(const ConvNhwc& s, const float* m, int64_t first, int64_t count,
                  const float* bias, const float* residual, bool relu, float* y) {
  const Isa isa = active_isa();
  if (residual)
    relu ? run_for_isa<transform_outputs<true, true>>(isa, s, m, first, count, bias, residual, y)
         : run_for_isa<transform_outputs<true, false>>(isa, s, m, first, count, bias, residual, y);
  else
    relu ? run_for_isa<transform_outputs<false, true>>(isa, s, m, first, count, bias, residual, y)
         : run_for_isa<transform_outputs<false, false>>(isa, s, m, first, count, bias, residual, y);
}

// Scratch of one block: the zero patch row, V, M.
int64_t block_floats(const ConvNhwc& s, int64_t tiles) {
  return s.in_channels + kTile * tiles * (s.in_channels + s.out_channels);
}

// One block of `count` tiles from `first`; its 16 GEMMs shared among
// `threads` threads (whole GEMMs each: one parallel region, no barrier inside).
void run_block(const ConvNhwc& s, const float* x, const float* u, const float* bias,
               const float* residual, bool relu, float* y, float* scratch, int64_t first,
               int64_t count, int threads) {
  const int64_t c = s.in_channels, o = s.out_channels;
  float* const zeros = scratch;
  float* const v = zeros + c;
  float* const m = v + kTile * count * c;
  std::fill(zeros, zeros + c, 0.f);
  run_for_isa<transform_inputs>(active_isa(), s, x, first, count, zeros, v);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
  for (int xi = 0; xi < kTile; ++xi)
    gemm<float>(false, false, count, o, c, 1.f, v + xi * count * c, c, u + xi * c * o, o, 0.f,
                m + xi * count * o, o);
  output_block(s, m, first, count, bias, residual, relu, y);
}

}  // namespace

bool winograd_applies(const ConvNhwc& s) {
  return s.kernel == 3 && s.stride == 1 && s.padding == 1;
}

void winograd_weights(const float* weight, int64_t in_channels, int64_t out_channels, float* u) {
  // In double, rounded once.
  const int64_t c = in_channels, o = out_channels;
  for (int64_t ic = 0; ic < c; ++ic)
    for (int64_t oc = 0; oc < o; ++oc) {
      const auto t = winograd::weight_tile<double>(
          [&](int ky, int kx) { return double(weight[((ky * 3 + kx) * c + ic) * o + oc]); });
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) u[((4 * i + j) * c + ic) * o + oc] = float(t[i][j]);
    }
}

int64_t conv_winograd_scratch_floats(const ConvNhwc& s, int threads) {
  const Blocking b = blocking(s, threads);
  return (b.per_thread ? threads : 1) * block_floats(s, b.tiles);
}

void conv_winograd(const ConvNhwc& s, const float* x, const float* u, const float* bias,
                   const float* residual, bool relu, float* y, float* scratch, int threads) {
  const int64_t total = tiles_of(s).count;
  const Blocking b = blocking(s, threads);
  const int64_t per_block = block_floats(s, b.tiles);
  const auto block = [&](int64_t i, float* own_scratch, int gemm_threads) {
    const int64_t first = std::min(total, i * b.tiles), last = std::min(total, first + b.tiles);
    if (first < last)
      run_block(s, x, u, bias, residual, relu, y, own_scratch, first, last - first, gemm_threads);
  };
  if (!b.per_thread) {
    for (int64_t i = 0; i < b.blocks; ++i) block(i, scratch, threads);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
  for (int64_t i = 0; i < b.blocks; ++i) block(i, scratch + omp_get_thread_num() * per_block, 1);
}

}  // namespace dml::cpu
