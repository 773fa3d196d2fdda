#pragma once
// The training passes of a 3x3, stride-1, padding-1 convolution (NCHW, f32,
// one group, no dilation) by Winograd's F(2x2, 3x3) (winograd_f2x3.h): each
// 2x2 block of outputs (a tile) comes from a 4x4 input patch through 16
// products instead of 36, so the GEMMs do 4/9 of the direct convolution's
// multiplications.
//
// Tiles go in blocks of whole tile rows (across images on small maps). Per
// block, the 16 transformed values of every tile (one matrix [channels,
// tiles] per value) meet the transformed weights in 16 GEMMs:
//   forward          M[e] [O, T] = U[e] [O, C] x V[e] [C, T], Y = A^T M A;
//   backward data    the forward on dY with the weights flipped in both
//                    spatial axes and in/out channels swapped;
//   backward filter  dU[e] [O, C] += A dY A^T [O, T] x V[e]^T, summed over
//                    blocks in one accumulator per thread, then dW = G^T dU G.
// Blocks go to threads as they come free; the GEMMs run one thread each.
#include "kernels/conv_shape.h"

namespace dml::cpu {

using kernels::ConvShape;

// Whether the f32 convolution of this shape runs here: 3x3, stride 1,
// padding 1, no dilation, one group, NCHW, enough channels on both sides to
// fill the GEMMs (16), maps of 4x4 or more (where it beats the direct
// convolution), and an AVX2 path or better (the transforms' vector loops).
bool winograd_conv_applies(const ConvShape& s);

// conv2d.h's contracts for such a shape (winograd_conv_applies need not hold
// beyond its shape conditions).
void winograd_conv_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                           float* y);
void winograd_conv_backward_data(const ConvShape& s, const float* dy, const float* w, float* dx);
void winograd_conv_backward_filter(const ConvShape& s, const float* x, const float* dy, float* dw,
                                   float* db);

}  // namespace dml::cpu
