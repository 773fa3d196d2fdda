// Max and average pooling, fixed-kernel and adaptive, on the input's device.
// Every variant is one PoolAxis per spatial axis (kernels/pool_window.h).
// f32, f64 and bf16 (the activations of an autocast ResNet's stem): bf16
// elements are compared and summed in f32 and each output and gradient
// element rounded to bf16 once (a maximum and its gradient exactly). Max
// pooling also runs on channels-last input (max_pool2d_channels_last).
#include "kernels/cpu/pool2d.h"

#include "engine/channels_last.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/pool2d.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;
using kernels::PoolAxis;

namespace {

void check_input(const char* op, const Tensor& x) {
  check_same_device(op, {&x});
  check_float_or_bf16(op, x);
  check_dim(op, "input", x, 4);
}

// x is [N, C, H, W], or [N, H, W, C] when channels_last; y keeps its layout.
Tensor max_pool(const char* op, const Tensor& x, const PoolAxis& ay, const PoolAxis& ax,
                bool channels_last = false) {
  const int64_t n = x.shape()[0], c = x.shape()[channels_last ? 3 : 1];
  const kernels::PoolPlanes planes{n * c, c, channels_last};
  for (const PoolAxis* a : {&ay, &ax})
    for (int64_t o = 0; o < a->out; ++o) {
      const kernels::PoolWindow win = kernels::pool_window(*a, o);
      DML_CHECK(win.end > win.begin, op, ": a pooling window of ", describe(x),
                " lies entirely in padding; use padding <= kernel / 2");
    }
  Tensor y = empty_of(channels_last ? Shape{n, ay.out, ax.out, c} : Shape{n, c, ay.out, ax.out}, x);
  Tensor argmax = Tensor::empty(y.shape(), DType::i64, x.device());
  dispatch_float_or_bf16(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(x.device(), max_pool2d_forward<T>, kernel_data<T>(x), planes, ay, ax,
               kernel_data<T>(y), kernel_data<int64_t>(argmax));
  });
  Shape in = x.shape();
  record(op, {x}, y, [in, argmax, planes, ay, ax](const Tensor& g) {
    check_same_device("max_pool2d_backward", {&g, &argmax});
    Tensor dx = empty_of(in, g);
    dispatch_float_or_bf16("max_pool2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(g.device(), max_pool2d_backward<T>, kernel_data<T>(g),
                 kernel_data<int64_t>(argmax), planes, ay, ax, kernel_data<T>(dx));
    });
    return Grads{dx};
  });
  return y;
}

Tensor avg_pool(const char* op, const Tensor& x, const PoolAxis& ay, const PoolAxis& ax) {
  const int64_t planes = x.shape()[0] * x.shape()[1];
  Tensor y = empty_of({x.shape()[0], x.shape()[1], ay.out, ax.out}, x);
  dispatch_float_or_bf16(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    DML_KERNEL(x.device(), avg_pool2d_forward<T>, kernel_data<T>(x), planes, ay, ax,
               kernel_data<T>(y));
  });
  Shape in = x.shape();
  record(op, {x}, y, [in, planes, ay, ax](const Tensor& g) {
    Tensor dx = empty_of(in, g);
    dispatch_float_or_bf16("avg_pool2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      DML_KERNEL(g.device(), avg_pool2d_backward<T>, kernel_data<T>(g), planes, ay, ax,
                 kernel_data<T>(dx));
    });
    return Grads{dx};
  });
  return y;
}

// Output size of a fixed-kernel pool (floor mode, as PyTorch's default).
// x is [N, C, H, W], or [N, H, W, C] when channels_last.
std::pair<PoolAxis, PoolAxis> fixed(const char* op, const Tensor& x, int64_t k, int64_t s,
                                    int64_t p, bool channels_last = false) {
  check_input(op, x);
  DML_CHECK(k >= 1 && s >= 1 && p >= 0 && 2 * p <= k, op, ": kernel ", k, ", stride ", s,
            ", padding ", p, " invalid (need kernel, stride >= 1 and padding <= kernel / 2)");
  const int64_t h = x.shape()[channels_last ? 1 : 2], w = x.shape()[channels_last ? 2 : 3];
  int64_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  DML_CHECK(h + 2 * p >= k && w + 2 * p >= k, op, ": input ", describe(x),
            " is smaller than the kernel ", k);
  return {kernels::fixed_axis(h, oh, k, s, p), kernels::fixed_axis(w, ow, k, s, p)};
}

std::pair<PoolAxis, PoolAxis> adaptive(const char* op, const Tensor& x, int64_t oh, int64_t ow) {
  check_input(op, x);
  DML_CHECK(oh >= 1 && ow >= 1, op, ": output size ", oh, "x", ow, " must be positive");
  return {kernels::adaptive_axis(x.shape()[2], oh), kernels::adaptive_axis(x.shape()[3], ow)};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  auto [ay, ax] = fixed("max_pool2d", x, kernel, stride, padding);
  return max_pool("max_pool2d", x, ay, ax);
}
Tensor max_pool2d_channels_last(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const char* op = "max_pool2d_channels_last";
  auto [ay, ax] = fixed(op, x, kernel, stride, padding, true);
  return max_pool(op, x, ay, ax, true);
}
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  auto [ay, ax] = fixed("avg_pool2d", x, kernel, stride, padding);
  return avg_pool("avg_pool2d", x, ay, ax);
}
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  auto [ay, ax] = adaptive("adaptive_avg_pool2d", x, out_h, out_w);
  return avg_pool("adaptive_avg_pool2d", x, ay, ax);
}
Tensor adaptive_max_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  auto [ay, ax] = adaptive("adaptive_max_pool2d", x, out_h, out_w);
  return max_pool("adaptive_max_pool2d", x, ay, ax);
}

}  // namespace dml
