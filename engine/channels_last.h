#pragma once
// Channels-last (NHWC) activations, for cuDNN: on a GPU its convolutions
// read and write [N, H, W, C] without transposing internally (tensor cores
// want the channels innermost), and the batch norms and ReLUs between them
// do not care. A ResNet runs its backbone this way with
// ResNet::set_channels_last (layers/resnet.h); the layers switch on
// ChannelsLastScope (layers/channels_last_scope.h).
//
// The convolution on the CPU is the NCHW op between permutes (the reference
// the CUDA kernels are tested against); on CUDA it is cuDNN's with NHWC
// descriptors for f32 and bf16 (f64 and biased convolutions go through NCHW
// there too). The max pool walks NHWC planes directly on both devices
// (engine/ops/pool2d.cpp).
#include "engine/ops.h"

namespace dml {

// [N, C, H, W] <-> [N, H, W, C] (copies).
Tensor to_channels_last(const Tensor& x);
Tensor to_channels_first(const Tensor& x);

// conv2d of x [N, H, W, C] with the usual weight [O, C / groups, KH, KW]
// and bias (the parameters keep PyTorch's layout; on CUDA a permuted copy
// [O, KH, KW, C / groups] is what cuDNN reads, its gradient flowing back
// through the permute): y [N, OH, OW, O]. f32, f64, bf16 and autocast as
// conv2d; a biased one runs in NCHW between permutes on every device.
Tensor conv2d_channels_last(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Conv2dOptions& options);

// max_pool2d of x [N, H, W, C]: y [N, OH, OW, C], the same windows, values
// and gradients as the NCHW op (kernels/pool_window.h walks NHWC planes).
Tensor max_pool2d_channels_last(const Tensor& x, int64_t kernel, int64_t stride,
                                int64_t padding = 0);

}  // namespace dml
