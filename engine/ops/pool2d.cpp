#include "kernels/cpu/pool2d.h"

#include "engine/ops/common.h"

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;
using cpu::PoolWindow;
using Windows = std::vector<PoolWindow>;

namespace {

void check_input(const char* op, const Tensor& x) {
  check_cpu(op, {&x});
  check_float(op, x);
  check_dim(op, "input", x, 4);
}

Tensor max_pool(const char* op, const Tensor& x, const Windows& wy, const Windows& wx) {
  const int64_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const int64_t oh = int64_t(wy.size()), ow = int64_t(wx.size());
  for (const auto* ws : {&wy, &wx})
    for (const PoolWindow& win : *ws)
      DML_CHECK(win.end > win.begin, op, ": a pooling window of ", describe(x),
                " lies entirely in padding; use padding <= kernel / 2");
  Tensor y = empty_of({x.shape()[0], x.shape()[1], oh, ow}, x);
  Tensor argmax = Tensor::empty(y.shape(), DType::i64);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    cpu::max_pool2d_forward<T>(x.data<T>(), planes, h, w, wy, wx, y.data<T>(),
                               argmax.data<int64_t>());
  });
  Shape in = x.shape();
  record(op, {x}, y, [in, argmax, planes, h, w, oh, ow](const Tensor& g) {
    Tensor dx = empty_of(in, g);
    dispatch_float("max_pool2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      cpu::max_pool2d_backward<T>(g.data<T>(), argmax.data<int64_t>(), planes, h, w, oh * ow,
                                  dx.data<T>());
    });
    return Grads{dx};
  });
  return y;
}

Tensor avg_pool(const char* op, const Tensor& x, const Windows& wy, const Windows& wx) {
  const int64_t planes = x.shape()[0] * x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  Tensor y = empty_of({x.shape()[0], x.shape()[1], int64_t(wy.size()), int64_t(wx.size())}, x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    cpu::avg_pool2d_forward<T>(x.data<T>(), planes, h, w, wy, wx, y.data<T>());
  });
  Shape in = x.shape();
  record(op, {x}, y, [in, wy, wx, planes, h, w](const Tensor& g) {
    Tensor dx = empty_of(in, g);
    dispatch_float("avg_pool2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      cpu::avg_pool2d_backward<T>(g.data<T>(), planes, h, w, wy, wx, dx.data<T>());
    });
    return Grads{dx};
  });
  return y;
}

// Output size of a fixed-kernel pool (floor mode, as PyTorch's default).
std::pair<Windows, Windows> fixed(const char* op, const Tensor& x, int64_t k, int64_t s,
                                  int64_t p) {
  check_input(op, x);
  DML_CHECK(k >= 1 && s >= 1 && p >= 0 && 2 * p <= k, op, ": kernel ", k, ", stride ", s,
            ", padding ", p, " invalid (need kernel, stride >= 1 and padding <= kernel / 2)");
  int64_t h = x.shape()[2], w = x.shape()[3];
  int64_t oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  DML_CHECK(h + 2 * p >= k && w + 2 * p >= k, op, ": input ", describe(x),
            " is smaller than the kernel ", k);
  return {cpu::fixed_windows(h, oh, k, s, p), cpu::fixed_windows(w, ow, k, s, p)};
}

std::pair<Windows, Windows> adaptive(const char* op, const Tensor& x, int64_t oh, int64_t ow) {
  check_input(op, x);
  DML_CHECK(oh >= 1 && ow >= 1, op, ": output size ", oh, "x", ow, " must be positive");
  return {cpu::adaptive_windows(x.shape()[2], oh), cpu::adaptive_windows(x.shape()[3], ow)};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  auto [wy, wx] = fixed("max_pool2d", x, kernel, stride, padding);
  return max_pool("max_pool2d", x, wy, wx);
}
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  auto [wy, wx] = fixed("avg_pool2d", x, kernel, stride, padding);
  return avg_pool("avg_pool2d", x, wy, wx);
}
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  auto [wy, wx] = adaptive("adaptive_avg_pool2d", x, out_h, out_w);
  return avg_pool("adaptive_avg_pool2d", x, wy, wx);
}
Tensor adaptive_max_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  auto [wy, wx] = adaptive("adaptive_max_pool2d", x, out_h, out_w);
  return max_pool("adaptive_max_pool2d", x, wy, wx);
}

}  // namespace dml
