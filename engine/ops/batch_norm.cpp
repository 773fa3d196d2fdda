// Batch normalisation on the input's device: the batch statistics (training)
// or the running ones (eval), the running-statistics update, the affine
// normalisation and its backward are each one kernel call.
#include "kernels/cpu/batch_norm.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/batch_norm.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum, double eps) {
  const char* op = "batch_norm2d";
  const Device device = check_same_device(op, {&x, &running_mean, &running_var});
  check_float(op, x);
  check_dim(op, "input", x, 4);
  const int64_t n = x.shape()[0], c = x.shape()[1], hw = x.shape()[2] * x.shape()[3];
  for (const Tensor* t : {&weight, &bias, &running_mean, &running_var}) {
    if (!t->defined()) continue;
    check_same_device(op, {&x, t});
    check_same_dtype(op, x, *t);
    DML_CHECK(t->dim() == 1 && t->shape()[0] == c, op, ": per-channel tensor ", describe(*t),
              " must be [", c, "] for input ", describe(x));
  }
  DML_CHECK(!training || n * hw > 1, op, ": training needs more than one value per channel, got ",
            describe(x));
  Tensor mean = empty_of({c}, x), invstd = empty_of({c}, x), y = empty_like(x);
  dispatch_float(op, x.dtype(), [&](auto t) {
    using T = decltype(t);
    T* m = kernel_data<T>(mean);
    T* is = kernel_data<T>(invstd);
    T* rm = kernel_data<T>(running_mean);
    T* rv = kernel_data<T>(running_var);
    if (training) {
      Tensor var = empty_of({c}, x);
      DML_KERNEL(device, batch_norm_stats<T>, kernel_data<T>(x), n, c, hw, m, kernel_data<T>(var));
      DML_KERNEL(device, batch_norm_update_running<T>, m, kernel_data<T>(var), c, n * hw, momentum,
                 eps, rm, rv, is);
    } else {
      DML_KERNEL(device, batch_norm_running_stats<T>, rm, rv, c, eps, m, is);
    }
    auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
    DML_KERNEL(device, batch_norm_apply<T>, kernel_data<T>(x), n, c, hw, m, is, ptr(weight),
               ptr(bias), kernel_data<T>(y));
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
      auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
      DML_KERNEL(g.device(), batch_norm_backward<T>, kernel_data<T>(g), kernel_data<T>(xd), n, c,
                 hw, kernel_data<T>(mean), kernel_data<T>(invstd), ptr(wd), training, ptr(grads[0]),
                 ptr(grads[1]), ptr(grads[2]));
    });
    return grads;
  });
  return y;
}

}  // namespace dml
