// 2-D convolution on the operands' device: im2col + GEMM on the CPU, cuDNN
// on CUDA (kernels/cuda/conv2d.h); the backward rule calls the data and
// filter gradients of the same backend. f32, f64 and bf16 (f32
// accumulation, each result rounded to bf16 once); under autocast
// (engine/autocast.h) f32 operands compute in bf16.
#include "kernels/cpu/conv2d.h"

#include "engine/autocast.h"
#include "engine/channels_last.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/conv2d.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// Checks the operands of `op` and returns its problem (channels_last: x is
// [N, H, W, C]; the weight is [O, C / groups, KH, KW] either way).
kernels::ConvShape checked_shape(const char* op, const Tensor& x, const Tensor& weight,
                                 const Tensor& bias, const Conv2dOptions& o, bool channels_last) {
  check_same_device(op, {&x, &weight});
  check_float_or_bf16(op, x);
  check_same_dtype(op, x, weight);
  check_dim(op, "input", x, 4);
  check_dim(op, "weight", weight, 4);
  DML_CHECK(o.groups >= 1 && o.stride_h >= 1 && o.stride_w >= 1 && o.dilation_h >= 1 &&
                o.dilation_w >= 1 && o.pad_h >= 0 && o.pad_w >= 0,
            op, ": stride, dilation and groups must be >= 1 and padding >= 0");
  const Shape& xs = x.shape();
  kernels::ConvShape s{xs[0],
                       channels_last ? xs[3] : xs[1],
                       channels_last ? xs[1] : xs[2],
                       channels_last ? xs[2] : xs[3],
                       weight.shape()[0],
                       weight.shape()[2],
                       weight.shape()[3],
                       o.stride_h,
                       o.stride_w,
                       o.pad_h,
                       o.pad_w,
                       o.dilation_h,
                       o.dilation_w,
                       o.groups,
                       channels_last};
  DML_CHECK(s.c % s.groups == 0 && s.o % s.groups == 0 && weight.shape()[1] == s.c / s.groups, op,
            ": input ", describe(x), " and weight ", describe(weight),
            " do not agree with groups = ", s.groups,
            " (weight must be [out, in / groups, kh, kw])");
  DML_CHECK(s.out_h() > 0 && s.out_w() > 0, op, ": input ", describe(x),
            " is smaller than the dilated kernel ", describe(weight));
  if (bias.defined()) {
    check_same_device(op, {&x, &bias});
    check_same_dtype(op, x, bias);
    DML_CHECK(bias.dim() == 1 && bias.shape()[0] == s.o, op, ": bias ", describe(bias),
              " must be [", s.o, "]");
  }
  return s;
}

// The convolution s of x with the weight as the kernels read it (kernel_w:
// [O, C / groups, KH, KW], or [O, KH, KW, C / groups] channels-last), its
// backward recorded.
Tensor run_conv(const char* op, const kernels::ConvShape& s, const Tensor& x,
                const Tensor& kernel_w, const Tensor& bias) {
  const Device device = x.device();
  Tensor y = empty_of(s.channels_last ? Shape{s.n, s.out_h(), s.out_w(), s.o}
                                      : Shape{s.n, s.o, s.out_h(), s.out_w()},
                      x);
  dispatch_float_or_bf16(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(device, conv2d_forward<T>, s, kernel_data<T>(x), kernel_data<T>(kernel_w),
               bias.defined() ? kernel_data<T>(bias) : nullptr, kernel_data<T>(y));
  });
  Tensor xd = kernel_w.requires_grad() ? x.detach() : Tensor();
  Tensor wd = x.requires_grad() ? kernel_w.detach() : Tensor();
  bool gb = bias.defined() && bias.requires_grad();
  Shape xs = x.shape(), ws = kernel_w.shape();
  record(op, {x, kernel_w, bias}, y, [=](const Tensor& g) {
    Grads grads(3);
    dispatch_float_or_bf16("conv2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      if (wd.defined()) {
        grads[0] = empty_of(xs, g);
        DML_KERNEL(g.device(), conv2d_backward_data<T>, s, kernel_data<T>(g), kernel_data<T>(wd),
                   kernel_data<T>(grads[0]));
      }
      if (xd.defined() || gb) {
        Tensor dw = empty_of(ws, g), db = gb ? empty_of({s.o}, g) : Tensor();
        if (xd.defined())
          DML_KERNEL(g.device(), conv2d_backward_filter<T>, s, kernel_data<T>(xd),
                     kernel_data<T>(g), kernel_data<T>(dw), gb ? kernel_data<T>(db) : nullptr);
        else
          db = sum_widened(g, {0, 2, 3});
        grads[1] = xd.defined() ? dw : Tensor();
        grads[2] = db;
      }
    });
    return grads;
  });
  return y;
}

// Under autocast: `conv` on the bf16 copies of the operands (which the node
// saves). The bf16 result stays bf16 where the caller's layers take it
// (AutocastActivationsGuard: a ResNet's batch norms and max pool), else goes
// back to f32 for the f32-only layers after.
template <class Conv>
Tensor autocast_conv(const Conv& conv) {
  Tensor y = conv();
  return autocast_keeps_activations() ? y : y.to(DType::f32);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  if (autocast_applies({&x, &weight, &bias}))
    return autocast_conv([&] {
      return conv2d(autocast_operand(x), autocast_operand(weight), autocast_operand(bias), o);
    });
  const char* op = "conv2d";
  return run_conv(op, checked_shape(op, x, weight, bias, o, false), x, weight, bias);
}

Tensor to_channels_last(const Tensor& x) {
  return permute(x, {0, 2, 3, 1});
}
Tensor to_channels_first(const Tensor& x) {
  return permute(x, {0, 3, 1, 2});
}

Tensor conv2d_channels_last(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Conv2dOptions& o) {
  const char* op = "conv2d_channels_last";
  check_dim(op, "input", x, 4);
  // The CPU's reference, f64 on CUDA (cuDNN's NHWC kernels are for the
  // tensor-core types) and a biased convolution (the NHWC kernels take no
  // bias): NCHW between permutes.
  if (!x.device().is_cuda() || x.dtype() == DType::f64 || bias.defined())
    return to_channels_last(conv2d(to_channels_first(x), weight, bias, o));
  if (autocast_applies({&x, &weight}))
    return autocast_conv(
        [&] { return conv2d_channels_last(autocast_operand(x), autocast_operand(weight), {}, o); });
  const kernels::ConvShape s = checked_shape(op, x, weight, {}, o, true);
  return run_conv(op, s, x, to_channels_last(weight), {});
}

}  // namespace dml
