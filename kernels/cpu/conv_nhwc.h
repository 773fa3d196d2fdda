#pragma once
// The inference convolution on channels-last (NHWC) activations, with the
// folded batch norm's bias, an optional residual and ReLU applied as its
// epilogue.
//
// Output row r = (n, oy, ox) is one GEMM row: its K = kernel * kernel * C
// inputs (ky, kx, c) are contiguous runs of C floats in an NHWC image, so a
// block of rows is gathered (im2col) into scratch and multiplied by the
// weights [K, O]; a 1x1 stride-1 convolution multiplies the activations in
// place. Rows go in blocks: each block's epilogue runs right after its GEMM,
// while the block is still in cache, so no separate pass reads the output.
// With several threads and enough rows, each thread takes whole blocks (its
// own scratch, a one-thread GEMM); with few rows (small images, late layers)
// the blocks run one after another, each thread taking a slice of the output
// columns.
#include <cstdint>

namespace dml::cpu {

struct ConvNhwc {
  int64_t batch, height, width, in_channels;  // input [batch, height, width, in_channels]
  int64_t out_channels, kernel, stride, padding;

  int64_t out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  int64_t out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  int64_t rows() const { return batch * out_height() * out_width(); }
  int64_t depth() const { return kernel * kernel * in_channels; }
  // The input itself is the GEMM's left operand.
  bool direct() const { return kernel == 1 && stride == 1 && padding == 0; }
};

// Floats of scratch conv_nhwc needs when it runs on `threads` threads.
int64_t conv_nhwc_scratch_floats(const ConvNhwc& s, int threads);

// y[r, o] = f(sum_k col[r, k] * weight[k, o] + bias[o] + residual[r, o]),
// f = ReLU or identity. weight: [kernel * kernel * in_channels, out_channels]
// with rows in (ky, kx, c) order; bias: [out_channels]; residual: null or
// [rows, out_channels]; y: [rows, out_channels], not overlapping x, and either
// the residual itself (the result replaces it: the GEMM accumulates onto it)
// or apart from it; scratch: conv_nhwc_scratch_floats(s, threads) floats.
void conv_nhwc(const ConvNhwc& s, const float* x, const float* weight, const float* bias,
               const float* residual, bool relu, float* y, float* scratch, int threads);

}  // namespace dml::cpu
