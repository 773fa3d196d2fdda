#include "kernels/cpu/batch_norm.h"

#include <cmath>

#include "engine/ops/common.h"

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum, double eps) {
  const char* op = "batch_norm2d";
  check_cpu(op, {&x, &running_mean, &running_var});
  check_float(op, x);
  check_dim(op, "input", x, 4);
  const int64_t n = x.shape()[0], c = x.shape()[1], hw = x.shape()[2] * x.shape()[3];
  for (const Tensor* t : {&weight, &bias, &running_mean, &running_var}) {
    if (!t->defined()) continue;
    check_cpu(op, {t});
    check_same_dtype(op, x, *t);
    DML_CHECK(t->dim() == 1 && t->shape()[0] == c, op, ": per-channel tensor ", describe(*t),
              " must be [", c, "] for input ", describe(x));
  }
  DML_CHECK(!training || n * hw > 1, op, ": training needs more than one value per channel, got ",
            describe(x));
  Tensor mean = empty_of({c}, x), invstd = empty_of({c}, x), y = empty_like(x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    T* m = mean.data<T>();
    T* is = invstd.data<T>();
    T* rm = running_mean.data<T>();
    T* rv = running_var.data<T>();
    if (training) {
      Tensor var = empty_of({c}, x);
      T* v = var.data<T>();
      cpu::batch_norm_stats<T>(x.data<T>(), n, c, hw, m, v);
      // Running statistics: exponential average, variance unbiased (PyTorch).
      const double unbias = double(n * hw) / double(n * hw - 1);
      for (int64_t ch = 0; ch < c; ++ch) {
        rm[ch] = T((1 - momentum) * rm[ch] + momentum * m[ch]);
        rv[ch] = T((1 - momentum) * rv[ch] + momentum * v[ch] * unbias);
        is[ch] = T(1.0 / std::sqrt(double(v[ch]) + eps));
      }
    } else {
      for (int64_t ch = 0; ch < c; ++ch) {
        m[ch] = rm[ch];
        is[ch] = T(1.0 / std::sqrt(double(rv[ch]) + eps));
      }
    }
    cpu::batch_norm_apply<T>(x.data<T>(), n, c, hw, m, is,
                             weight.defined() ? weight.data<T>() : nullptr,
                             bias.defined() ? bias.data<T>() : nullptr, y.data<T>());
  });
  Tensor xd = x.detach(), wd = weight.defined() ? weight.detach() : Tensor();
  bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
       gbias = bias.defined() && bias.requires_grad();
  record(op, {x, weight, bias}, y, [=](const Tensor& g) {
    Grads grads(3);
    if (gx) grads[0] = empty_like(g);
    if (gw) grads[1] = empty_of({c}, g);
    if (gbias) grads[2] = empty_of({c}, g);
    dispatch_float("batch_norm2d_backward", g.dtype(), [&](auto t) {
      using T = decltype(t);
      auto ptr = [](const Tensor& u) { return u.defined() ? u.data<T>() : nullptr; };
      cpu::batch_norm_backward<T>(g.data<T>(), xd.data<T>(), n, c, hw, mean.data<T>(),
                                  invstd.data<T>(), ptr(wd), training, ptr(grads[0]), ptr(grads[1]),
                                  ptr(grads[2]));
    });
    return grads;
  });
  return y;
}

}  // namespace dml
