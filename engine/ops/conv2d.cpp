#include "kernels/cpu/conv2d.h"

#include "engine/ops/common.h"

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  check_cpu(op, {&x, &weight});
  check_float(op, x);
  check_same_dtype(op, x, weight);
  check_dim(op, "input", x, 4);
  check_dim(op, "weight", weight, 4);
  DML_CHECK(o.groups >= 1 && o.stride_h >= 1 && o.stride_w >= 1 && o.dilation_h >= 1 &&
                o.dilation_w >= 1 && o.pad_h >= 0 && o.pad_w >= 0,
            op, ": stride, dilation and groups must be >= 1 and padding >= 0");
  cpu::ConvShape s{x.shape()[0],      x.shape()[1],      x.shape()[2],      x.shape()[3],
                   weight.shape()[0], weight.shape()[2], weight.shape()[3], o.stride_h,
                   o.stride_w,        o.pad_h,           o.pad_w,           o.dilation_h,
                   o.dilation_w,      o.groups};
  DML_CHECK(s.c % s.groups == 0 && s.o % s.groups == 0 && weight.shape()[1] == s.c / s.groups, op,
            ": input ", describe(x), " and weight ", describe(weight),
            " do not agree with groups = ", s.groups,
            " (weight must be [out, in / groups, kh, kw])");
  DML_CHECK(s.out_h() > 0 && s.out_w() > 0, op, ": input ", describe(x),
            " is smaller than the dilated kernel ", describe(weight));
  if (bias.defined()) {
    check_cpu(op, {&bias});
    check_same_dtype(op, x, bias);
    DML_CHECK(bias.dim() == 1 && bias.shape()[0] == s.o, op, ": bias ", describe(bias),
              " must be [", s.o, "]");
  }
  Tensor y = empty_of({s.n, s.o, s.out_h(), s.out_w()}, x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    cpu::conv2d_forward<T>(s, x.data<T>(), weight.data<T>(),
                           bias.defined() ? bias.data<T>() : nullptr, y.data<T>());
  });
  Tensor xd = weight.requires_grad() ? x.detach() : Tensor();
  Tensor wd = x.requires_grad() ? weight.detach() : Tensor();
  bool gb = bias.defined() && bias.requires_grad();
  Shape xs = x.shape(), ws = weight.shape();
  record(op, {x, weight, bias}, y, [=](const Tensor& g) {
    Grads grads(3);
    dispatch_float("conv2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      if (wd.defined()) {
        grads[0] = empty_of(xs, g);
        cpu::conv2d_backward_data<T>(s, g.data<T>(), wd.data<T>(), grads[0].data<T>());
      }
      if (xd.defined() || gb) {
        Tensor dw = empty_of(ws, g), db = gb ? empty_of({s.o}, g) : Tensor();
        if (xd.defined())
          cpu::conv2d_backward_filter<T>(s, xd.data<T>(), g.data<T>(), dw.data<T>(),
                                         gb ? db.data<T>() : nullptr);
        else
          db = sum(g, {0, 2, 3});
        grads[1] = xd.defined() ? dw : Tensor();
        grads[2] = db;
      }
    });
    return grads;
  });
  return y;
}

}  // namespace dml
