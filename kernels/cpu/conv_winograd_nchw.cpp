#include "kernels/cpu/conv_winograd_nchw.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/parallel.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/isa_dispatch.h"
#include "kernels/cpu/winograd_f2x3.h"

namespace dml::cpu {

namespace {

constexpr int kTile = 16;  // 4 x 4 transformed values per tile
// Below this many channels on either side the GEMMs are too thin to repay
// the transforms. Below this map side (a 2x2 map: one tile per image, half
// of each GEMM's columns spare slots) the direct convolution is faster.
constexpr int64_t kMinChannels = 16, kMinSide = 4;
// A block's transformed operands (16 x slots x (in + out channels) floats)
// aim at 8 MiB, with between kMinSlots and kMaxSlots slots (each of the 16
// GEMMs packs its weights once per block).
constexpr int64_t kBlockFloats = int64_t(2) << 20;
constexpr int64_t kMinSlots = 32, kMaxSlots = 256;

int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

// The tiles of a pass: rows x cols per image of height x width, tile rows
// counted over the batch. The transforms run over a block's tile rows as one
// flat vector loop, so each tile row has cols + 1 slots: its tiles and a
// spare one, which the GEMMs carry along (its outputs are never written, its
// output gradient is zero). A slot's input columns start at twice its index
// in lines of `line` floats: an input row, a zero column left, zeros right.
struct Grid {
  int64_t height, width, rows, cols, tile_rows, slots, line;
};

Grid grid_of(const ConvShape& s) {
  const int64_t rows = ceil_div(s.h, 2), cols = ceil_div(s.w, 2);
  return {s.h, s.w, rows, cols, s.n * rows, cols + 1, 2 * (cols + 1)};
}

// Whole tile rows per block, and at least one block per thread (and one
// thread, whose accumulators stay zero, for an empty batch).
struct Blocking {
  int64_t rows_per_block, blocks;
  int threads;
};

Blocking blocking(const Grid& g, int64_t in_channels, int64_t out_channels) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t target =
      std::clamp(kBlockFloats / (kTile * (in_channels + out_channels)), kMinSlots, kMaxSlots);
  const int64_t rows =
      std::max<int64_t>(1, std::min(target / g.slots, ceil_div(g.tile_rows, threads)));
  const int64_t blocks = ceil_div(g.tile_rows, rows);
  return {rows, blocks, int(std::clamp<int64_t>(blocks, 1, threads))};
}

// A block's scratch: the transformed operands of its slots (16 per slot and
// channel) and four lines per tile row, plus two floats past them (the last
// slot's spare columns).
int64_t scratch_floats(const Grid& g, const Blocking& b, int64_t in_channels,
                       int64_t out_channels) {
  const int64_t slots = b.rows_per_block * g.slots;
  return kTile * slots * (in_channels + out_channels) + 4 * (2 * slots + 2);
}

// Where the plane of `channel` starts in tile row `row`'s image (`channels`
// planes per image).
int64_t plane_start(const Grid& g, int64_t row, int64_t channels, int64_t channel) {
  return (row / g.rows * channels + channel) * g.height * g.width;
}

// Copies image row `iy` (of the plane at `plane`) into a line from `offset`,
// zeros around it and where the row lies outside the image.
DML_ISA_BODY void padded_line(const Grid& g, const float* plane, int64_t iy, int64_t offset,
                              float* line) {
  if (iy < 0 || iy >= g.height) {
    std::fill(line, line + g.line, 0.f);
    return;
  }
  std::fill(line, line + offset, 0.f);
  std::memcpy(line + offset, plane + iy * g.width, sizeof(float) * size_t(g.width));
  std::fill(line + offset + g.width, line + g.line, 0.f);
}

// V = B^T d B of the slots of tile rows [first, first + count) of x
// (`channels` planes per image): v[e][c][z], e = 4 i + j, z = (row - first)
// * slots + tile column. `lines`: four runs of count lines and two floats.
DML_ISA_BODY void input_tiles(Grid g, const float* __restrict x, int64_t channels, int64_t first,
                              int64_t count, float* __restrict lines, float* __restrict v) {
  const int64_t slots = count * g.slots, run = 2 * slots + 2, stride = channels * slots;
  const float* const l[4] = {lines, lines + run, lines + 2 * run, lines + 3 * run};
  for (int i = 0; i < 4; ++i) std::fill(lines + i * run + 2 * slots, lines + (i + 1) * run, 0.f);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < count; ++r) {
      const int64_t row = first + r, ty = row % g.rows;
      const float* plane = x + plane_start(g, row, channels, c);
      for (int i = 0; i < 4; ++i)
        padded_line(g, plane, 2 * ty - 1 + i, 1, lines + i * run + r * g.line);
    }
    float* out = v + c * slots;
#pragma GCC ivdep
    for (int64_t z = 0; z < slots; ++z) {
      std::array<float, 4> col[4];  // col[j][i]: column j transformed
      for (int j = 0; j < 4; ++j)
        col[j] =
            winograd::input(l[0][2 * z + j], l[1][2 * z + j], l[2][2 * z + j], l[3][2 * z + j]);
      for (int i = 0; i < 4; ++i) {
        const auto t = winograd::input(col[0][i], col[1][i], col[2][i], col[3][i]);
        for (int j = 0; j < 4; ++j) out[(4 * i + j) * stride + z] = t[j];
      }
    }
  }
}

// y = A^T M A (+ bias) for the tiles of tile rows [first, first + count):
// m[e][o][z] as input_tiles lays out v, y with `channels` planes per image.
// `lines`: two runs of count lines, the outputs before clipping.
DML_ISA_BODY void output_tiles(Grid g, const float* __restrict m, int64_t channels, int64_t first,
                               int64_t count, const float* bias, float* __restrict lines,
                               float* __restrict y) {
  const int64_t slots = count * g.slots, stride = channels * slots;
  float* const top = lines;
  float* const bottom = lines + 2 * slots;
  for (int64_t o = 0; o < channels; ++o) {
    const float* in = m + o * slots;
#pragma GCC ivdep
    for (int64_t z = 0; z < slots; ++z) {
      std::array<float, 2> col[4];  // col[j][a]: column j transformed
      for (int j = 0; j < 4; ++j)
        col[j] = winograd::output(in[j * stride + z], in[(4 + j) * stride + z],
                                  in[(8 + j) * stride + z], in[(12 + j) * stride + z]);
      const auto t = winograd::output(col[0][0], col[1][0], col[2][0], col[3][0]);
      const auto b = winograd::output(col[0][1], col[1][1], col[2][1], col[3][1]);
      top[2 * z] = t[0];
      top[2 * z + 1] = t[1];
      bottom[2 * z] = b[0];
      bottom[2 * z + 1] = b[1];
    }
    const float add = bias ? bias[o] : 0.f;
    for (int64_t r = 0; r < count; ++r) {
      const int64_t row = first + r;
      float* out = y + plane_start(g, row, channels, o) + 2 * (row % g.rows) * g.width;
      const float* t = top + r * g.line;
      for (int64_t x = 0; x < g.width; ++x) out[x] = t[x] + add;
      if (2 * (row % g.rows) + 1 < g.height) {
        const float* b = bottom + r * g.line;
        for (int64_t x = 0; x < g.width; ++x) out[g.width + x] = b[x] + add;
      }
    }
  }
}

// A dY A^T, the products' gradients, for the slots of tile rows [first,
// first + count) of dy (`channels` planes per image), laid out as
// input_tiles lays out v; zero in the spare slots (their outputs lie past
// the map). `lines`: two runs of count lines (no left padding: a tile's
// outputs start at its own column).
DML_ISA_BODY void gradient_tiles(Grid g, const float* __restrict dy, int64_t channels,
                                 int64_t first, int64_t count, float* __restrict lines,
                                 float* __restrict d) {
  const int64_t slots = count * g.slots, stride = channels * slots;
  const float* const l[2] = {lines, lines + 2 * slots};
  for (int64_t o = 0; o < channels; ++o) {
    for (int64_t r = 0; r < count; ++r) {
      const int64_t row = first + r, ty = row % g.rows;
      const float* plane = dy + plane_start(g, row, channels, o);
      for (int a = 0; a < 2; ++a)
        padded_line(g, plane, 2 * ty + a, 0, lines + a * 2 * slots + r * g.line);
    }
    float* out = d + o * slots;
#pragma GCC ivdep
    for (int64_t z = 0; z < slots; ++z) {
      std::array<float, 4> col[2];  // col[b][i]: column b transformed
      for (int b = 0; b < 2; ++b)
        col[b] = winograd::output_transposed(l[0][2 * z + b], l[1][2 * z + b]);
      for (int i = 0; i < 4; ++i) {
        const auto t = winograd::output_transposed(col[0][i], col[1][i]);
        for (int j = 0; j < 4; ++j) out[(4 * i + j) * stride + z] = t[j];
      }
    }
  }
}

// Kernels and their transforms in planes: element e of transform k at
// [e * count + k], so that one vector loop runs over kernels. The loops below
// take the kernels [begin, end) of `count`.

// u[e] = (G g G^T)[e] of the kernels g, element t of kernel k at
// g[k * kernel_stride + t * tap_stride]; in double, rounded once.
DML_ISA_BODY void weight_tiles(const float* __restrict g, int64_t kernel_stride, int64_t tap_stride,
                               int64_t count, int64_t begin, int64_t end, float* __restrict u) {
#pragma GCC ivdep
  for (int64_t k = begin; k < end; ++k) {
    const auto t = winograd::weight_tile<double>(
        [&](int ky, int kx) { return double(g[k * kernel_stride + (ky * 3 + kx) * tap_stride]); });
    for (int e = 0; e < kTile; ++e) u[e * count + k] = float(t[e / 4][e % 4]);
  }
}

// dw[k * 9 + t] = (G^T dU G)[t], dU[e] at du[e * count + k], in double.
DML_ISA_BODY void weight_gradients(const float* __restrict du, int64_t count, int64_t begin,
                                   int64_t end, float* __restrict dw) {
#pragma GCC ivdep
  for (int64_t k = begin; k < end; ++k) {
    std::array<double, 3> col[4];  // col[j][ky]: column j transformed
    for (int j = 0; j < 4; ++j)
      col[j] =
          winograd::weight_transposed<double>(du[j * count + k], du[(4 + j) * count + k],
                                              du[(8 + j) * count + k], du[(12 + j) * count + k]);
    for (int ky = 0; ky < 3; ++ky) {
      const auto row = winograd::weight_transposed(col[0][ky], col[1][ky], col[2][ky], col[3][ky]);
      for (int kx = 0; kx < 3; ++kx) dw[k * 9 + ky * 3 + kx] = float(row[kx]);
    }
  }
}

// Adds the runs add[s], s < runs, of `count` floats each to sum.
DML_ISA_BODY void add_runs(const float* __restrict add, int runs, int64_t count, int64_t begin,
                           int64_t end, float* __restrict sum) {
  for (int s = 0; s < runs; ++s)
    for (int64_t k = begin; k < end; ++k) sum[k] += add[s * count + k];
}

// Runs a plane loop over [0, count) in parallel chunks.
template <class F>
void in_chunks(int64_t count, F&& loop) {
  constexpr int64_t kChunk = 2048;
  parallel_for(
      ceil_div(count, kChunk),
      [&](int64_t i) { loop(i * kChunk, std::min(count, (i + 1) * kChunk)); }, 1);
}

// The transformed weights as the GEMMs take them, [16, out, in]: u[e][o][c]
// = (G g G^T)[e] of each kernel g = w[o][c] for the forward; for the
// backward data u[e][c][o] of g flipped in both axes (a vector loop over o per
// c, reading the kernels 9 C floats apart).
std::vector<float> transformed_weights(const ConvShape& s, const float* w, bool for_data_gradient) {
  const int64_t pairs = s.o * s.c;
  std::vector<float> u(size_t(kTile * pairs));
  const Isa isa = active_isa();
  if (for_data_gradient)
    parallel_for(
        s.c,
        [&](int64_t c) {
          run_for_isa<weight_tiles>(isa, w + c * 9 + 8, 9 * s.c, int64_t(-1), pairs, int64_t(0),
                                    s.o, u.data() + c * s.o);
        },
        1);
  else
    in_chunks(pairs, [&](int64_t begin, int64_t end) {
      run_for_isa<weight_tiles>(isa, w, int64_t(9), int64_t(1), pairs, begin, end, u.data());
    });
  return u;
}

std::unique_ptr<float[]> uninitialised(int64_t floats) {
  return std::unique_ptr<float[]>(new float[size_t(floats)]);
}

// y (out_channels planes) = the Winograd convolution of x (in_channels
// planes) with u [16, out_channels, in_channels], plus bias if non-null.
void winograd_conv(const Grid& g, int64_t in_channels, int64_t out_channels, const float* x,
                   const float* u, const float* bias, float* y) {
  const Blocking b = blocking(g, in_channels, out_channels);
  const int64_t per_thread = scratch_floats(g, b, in_channels, out_channels);
  const auto scratch = uninitialised(per_thread * b.threads);
  const Isa isa = active_isa();
#pragma omp parallel for num_threads(b.threads) schedule(dynamic, 1) if (b.threads > 1)
  for (int64_t i = 0; i < b.blocks; ++i) {
    const int64_t first = i * b.rows_per_block,
                  count = std::min(b.rows_per_block, g.tile_rows - first), slots = count * g.slots;
    float* const v = scratch.get() + omp_get_thread_num() * per_thread;
    float* const m = v + kTile * in_channels * slots;
    float* const lines = m + kTile * out_channels * slots;
    run_for_isa<input_tiles>(isa, g, x, in_channels, first, count, lines, v);
    for (int e = 0; e < kTile; ++e)
      gemm<float>(false, false, out_channels, slots, in_channels, 1.f,
                  u + e * out_channels * in_channels, in_channels, v + e * in_channels * slots,
                  slots, 0.f, m + e * out_channels * slots, slots);
    run_for_isa<output_tiles>(isa, g, m, out_channels, first, count, bias, lines, y);
  }
}

void check_shape(const ConvShape& s) {
  DML_CHECK(!s.channels_last && s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 &&
                s.pad_h == 1 && s.pad_w == 1 && s.dil_h == 1 && s.dil_w == 1 && s.groups == 1,
            "winograd_conv: a 3x3, stride-1, padding-1 NCHW convolution of one group expected");
}

}  // namespace

bool winograd_conv_applies(const ConvShape& s) {
  return !s.channels_last && s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 &&
         s.pad_h == 1 && s.pad_w == 1 && s.dil_h == 1 && s.dil_w == 1 && s.groups == 1 &&
         s.c >= kMinChannels && s.o >= kMinChannels && s.h >= kMinSide && s.w >= kMinSide &&
         active_isa() >= Isa::avx2;
}

void winograd_conv_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                           float* y) {
  check_shape(s);
  const std::vector<float> u = transformed_weights(s, w, false);
  winograd_conv(grid_of(s), s.c, s.o, x, u.data(), bias, y);
}

void winograd_conv_backward_data(const ConvShape& s, const float* dy, const float* w, float* dx) {
  check_shape(s);
  const std::vector<float> u = transformed_weights(s, w, true);
  winograd_conv(grid_of(s), s.o, s.c, dy, u.data(), nullptr, dx);
}

void winograd_conv_backward_filter(const ConvShape& s, const float* x, const float* dy, float* dw,
                                   float* db) {
  check_shape(s);
  const Grid g = grid_of(s);
  const int64_t c = s.c, o = s.o, pairs = o * c;
  const Blocking b = blocking(g, c, o);
  const int64_t per_thread = scratch_floats(g, b, c, o);
  const auto scratch = uninitialised(per_thread * b.threads);
  // dU [16, O, C] per thread.
  std::vector<float> du(size_t(b.threads * kTile * pairs), 0.f);
  const Isa isa = active_isa();
#pragma omp parallel for num_threads(b.threads) schedule(dynamic, 1) if (b.threads > 1)
  for (int64_t i = 0; i < b.blocks; ++i) {
    const int64_t first = i * b.rows_per_block,
                  count = std::min(b.rows_per_block, g.tile_rows - first), slots = count * g.slots;
    const int thread = omp_get_thread_num();
    float* const v = scratch.get() + thread * per_thread;
    float* const d = v + kTile * c * slots;
    float* const lines = d + kTile * o * slots;
    float* const acc = du.data() + thread * kTile * pairs;
    run_for_isa<input_tiles>(isa, g, x, c, first, count, lines, v);
    run_for_isa<gradient_tiles>(isa, g, dy, o, first, count, lines, d);
    for (int e = 0; e < kTile; ++e)
      gemm<float>(false, true, o, c, slots, 1.f, d + e * o * slots, slots, v + e * c * slots, slots,
                  1.f, acc + e * pairs, c);
  }
  // The threads' sums, then dW = G^T dU G per kernel.
  in_chunks(kTile * pairs, [&](int64_t begin, int64_t end) {
    run_for_isa<add_runs>(isa, du.data() + kTile * pairs, b.threads - 1, kTile * pairs, begin, end,
                          du.data());
  });
  in_chunks(pairs, [&](int64_t begin, int64_t end) {
    run_for_isa<weight_gradients>(isa, du.data(), pairs, begin, end, dw);
  });
  if (db) {
    const int64_t plane = s.h * s.w;
    parallel_for(
        o,
        [&](int64_t oc) {
          float sum = 0;
          for (int64_t n = 0; n < s.n; ++n) {
            const float* p = dy + (n * o + oc) * plane;
            for (int64_t i = 0; i < plane; ++i) sum += p[i];
          }
          db[oc] = sum;
        },
        1);
  }
}

}  // namespace dml::cpu
