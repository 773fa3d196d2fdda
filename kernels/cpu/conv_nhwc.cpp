#include "kernels/cpu/conv_nhwc.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa_dispatch.h"

namespace dml::cpu {

namespace {

// A block's im2col rows (rows x K floats) aim at about 1 MiB, within L2 for
// the GEMM that reads them and the epilogue after it...
constexpr int64_t kBlockFloats = 256 * 1024;
// ...but never so few rows that packing the weights, once per block, costs
// more than the block's products; nor so many that the output block leaves L2.
constexpr int64_t kMinBlockRows = 96, kMaxBlockRows = 512;
// Below this many rows per thread, threads share each block's GEMM instead.
constexpr int64_t kMinThreadRows = 32;

int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

// How the rows are cut: `blocks` blocks of at most `rows` rows, spread over
// the threads (each its own blocks and scratch) or run one by one, the
// threads sharing each block's output columns.
struct Blocking {
  int64_t blocks, rows;
  bool per_thread;
};

Blocking blocking(const ConvNhwc& s, int threads) {
  const int64_t m = s.rows();
  const int64_t target = std::clamp(kBlockFloats / s.depth(), kMinBlockRows, kMaxBlockRows);
  int64_t blocks = ceil_div(m, target);
  if (threads > 1) {
    const int64_t spread = ceil_div(blocks, threads) * threads;  // an equal share per thread
    if (ceil_div(m, spread) < kMinThreadRows) return {blocks, ceil_div(m, blocks), false};
    blocks = spread;
  }
  return {blocks, ceil_div(m, blocks), true};
}

// Rows [r0, r1) of the im2col matrix: row (n, oy, ox) holds, for each (ky,
// kx), the C input channels at (oy * stride - padding + ky, ox * stride -
// padding + kx), zeros where that lies in the padding.
void im2col_rows(const ConvNhwc& s, const float* x, int64_t r0, int64_t r1, float* col) {
  const int64_t oh = s.out_height(), ow = s.out_width(), c = s.in_channels, k = s.kernel;
  const int64_t run = k * c;  // one (ky) row of the window: kernel pixels, contiguous in x
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / (oh * ow), oy = r / ow % oh, ox = r % ow;
    const int64_t iy0 = oy * s.stride - s.padding, ix0 = ox * s.stride - s.padding;
    const bool inside_x = ix0 >= 0 && ix0 + k <= s.width;
    float* d = col + (r - r0) * s.depth();
    for (int64_t ky = 0; ky < k; ++ky, d += run) {
      const int64_t iy = iy0 + ky;
      if (iy < 0 || iy >= s.height) {
        std::fill(d, d + run, 0.f);
        continue;
      }
      const float* src = x + ((n * s.height + iy) * s.width) * c;
      if (inside_x) {
        std::memcpy(d, src + ix0 * c, size_t(run) * sizeof(float));
        continue;
      }
      for (int64_t kx = 0; kx < k; ++kx) {
        const int64_t ix = ix0 + kx;
        if (ix < 0 || ix >= s.width)
          std::fill(d + kx * c, d + (kx + 1) * c, 0.f);
        else
          std::memcpy(d + kx * c, src + ix * c, size_t(c) * sizeof(float));
      }
    }
  }
}

// y = f(y + bias (+ residual)) over rows x cols, rows `ld` floats apart in y
// and residual; f = ReLU or identity.
template <bool kResidual, bool kRelu>
DML_ISA_BODY void epilogue_rows(float* __restrict y, int64_t rows, int64_t cols, int64_t ld,
                                const float* __restrict bias, const float* __restrict residual) {
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * ld;
    const float* rr = kResidual ? residual + r * ld : nullptr;
    for (int64_t j = 0; j < cols; ++j) {
      float v = yr[j] + bias[j];
      if constexpr (kResidual) v += rr[j];
      if constexpr (kRelu) v = v > 0.f ? v : 0.f;
      yr[j] = v;
    }
  }
}

void epilogue(float* y, int64_t rows, int64_t cols, int64_t ld, const float* bias,
              const float* residual, bool relu) {
  const Isa isa = active_isa();
  if (residual)
    relu ? run_for_isa<epilogue_rows<true, true>>(isa, y, rows, cols, ld, bias, residual)
         : run_for_isa<epilogue_rows<true, false>>(isa, y, rows, cols, ld, bias, residual);
  else
    relu ? run_for_isa<epilogue_rows<false, true>>(isa, y, rows, cols, ld, bias, residual)
         : run_for_isa<epilogue_rows<false, false>>(isa, y, rows, cols, ld, bias, residual);
}

// Output columns [j0, j1) of rows [r0, r1): multiply (a: the block's GEMM
// rows), then the epilogue. In place (y is the residual), the GEMM adds the
// product onto it.
void multiply_columns(const ConvNhwc& s, const float* a, const float* weight, const float* bias,
                      const float* residual, bool relu, float* y, int64_t r0, int64_t r1,
                      int64_t j0, int64_t j1) {
  const int64_t k = s.depth(), o = s.out_channels;
  const bool in_place = residual == y;
  float* const c = y + r0 * o + j0;
  gemm<float>(false, false, r1 - r0, j1 - j0, k, 1.f, a, k, weight + j0, o, in_place ? 1.f : 0.f, c,
              o);
  epilogue(c, r1 - r0, j1 - j0, o, bias + j0,
           residual && !in_place ? residual + r0 * o + j0 : nullptr, relu);
}

// One block of rows [r0, r1): gather, then multiply on `threads` threads, each
// its own slice of the output columns (one parallel region, no barrier inside
// the GEMM: few rows leave little work to share, and a busy machine makes
// every barrier costly).
void run_block(const ConvNhwc& s, const float* x, const float* weight, const float* bias,
               const float* residual, bool relu, float* y, float* scratch, int64_t r0, int64_t r1,
               int threads) {
  const float* a = x + r0 * s.depth();
  if (!s.direct()) {
    im2col_rows(s, x, r0, r1, scratch);
    a = scratch;
  }
  const int64_t o = s.out_channels;
  const int64_t width = ceil_div(ceil_div(o, threads), 16) * 16, slices = ceil_div(o, width);
#pragma omp parallel for num_threads(threads) schedule(static) if (slices > 1)
  for (int64_t j = 0; j < slices; ++j)
    multiply_columns(s, a, weight, bias, residual, relu, y, r0, r1, j * width,
                     std::min(o, (j + 1) * width));
}

}  // namespace

int64_t conv_nhwc_scratch_floats(const ConvNhwc& s, int threads) {
  if (s.direct()) return 0;
  const Blocking b = blocking(s, threads);
  return (b.per_thread ? threads : 1) * b.rows * s.depth();
}

void conv_nhwc(const ConvNhwc& s, const float* x, const float* weight, const float* bias,
               const float* residual, bool relu, float* y, float* scratch, int threads) {
  const int64_t m = s.rows();
  const Blocking b = blocking(s, threads);
  const auto block = [&](int64_t i, float* own_scratch, int column_threads) {
    const int64_t r0 = std::min(m, i * b.rows), r1 = std::min(m, r0 + b.rows);
    if (r0 < r1)
      run_block(s, x, weight, bias, residual, relu, y, own_scratch, r0, r1, column_threads);
  };
  if (!b.per_thread) {
    for (int64_t i = 0; i < b.blocks; ++i) block(i, scratch, threads);
    return;
  }
  // Blocks are handed out as threads come free (each block's result does not
  // depend on the thread that computes it): on a machine shared with other
  // work, a thread that loses its core does not hold the others back.
  const int64_t per_thread_scratch = s.direct() ? 0 : b.rows * s.depth();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
  for (int64_t i = 0; i < b.blocks; ++i)
    block(i, scratch + omp_get_thread_num() * per_thread_scratch, 1);
}

}  // namespace dml::cpu
