#pragma once
// 3x3 stride-1 padding-1 convolution on channels-last activations by Winograd's
// minimal filtering F(2x2, 3x3) (Lavin and Gray 2016): each 2x2 block of
// outputs (a tile) comes from a 4x4 input patch through 16 products instead of
// 36, so the GEMMs do 4/9 of the direct convolution's multiplications. The
// transforms use only the constants 0, +-1 and +-1/2, so the result stays
// within a few f32 roundings of the direct one.
//
// Per block of tiles: the input patches are transformed (V = B^T d B, 16
// matrices [tiles, C]), multiplied by the transformed weights (16 GEMMs
// [tiles, C] x [C, O]), and transformed back (Y = A^T M A) with conv_nhwc's
// epilogue: bias, optional residual (which y may be, written in place), ReLU.
// Blocks go to threads as they come free, each with its own scratch; with few
// tiles, one block at a time, its 16 GEMMs spread over the threads.
#include <cstdint>

#include "kernels/cpu/conv_nhwc.h"

namespace dml::cpu {

// Whether conv_winograd computes this convolution (3x3, stride 1, padding 1).
bool winograd_applies(const ConvNhwc& s);

// The transformed weights: u [16, C, O] from weight [9 * C, O] with rows in
// (ky, kx, c) order (conv_nhwc's layout). U = G g G^T per (c, o).
void winograd_weights(const float* weight, int64_t in_channels, int64_t out_channels, float* u);

int64_t conv_winograd_scratch_floats(const ConvNhwc& s, int threads);

// conv_nhwc's contract with the weights transformed by winograd_weights.
void conv_winograd(const ConvNhwc& s, const float* x, const float* u, const float* bias,
                   const float* residual, bool relu, float* y, float* scratch, int threads);

}  // namespace dml::cpu
