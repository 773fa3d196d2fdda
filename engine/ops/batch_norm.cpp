// Batch normalisation on the input's device: the batch statistics (training)
// or the running ones (eval), the running-statistics update, the affine
// normalisation and its backward are each one kernel call.
//
// batch_norm2d_relu is the same op with a ResNet block's residual add and
// ReLU fused into the normalisation's pass (kernels' batch_norm_apply) and
// its backward: the gradient reaching the normalisation is the upstream one
// masked by the output (y > 0, the relu op's rule), which is also the
// residual's gradient. Only x and y are kept for the backward; bn(x) and
// bn(x) + residual never exist as tensors.
#include "kernels/cpu/batch_norm.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"
#include "kernels/cpu/elementwise.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/elementwise.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// batch_norm2d (relu false, residual undefined) and batch_norm2d_relu: the
// checks, the statistics and running update, the fused apply, the backward.
Tensor batch_norm_forward(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                          const Tensor& running_mean, const Tensor& running_var, bool training,
                          double momentum, double eps, const Tensor& residual, bool relu) {
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
  if (residual.defined()) {
    check_same_device(op, {&x, &residual});
    check_same_dtype(op, x, residual);
    DML_CHECK(residual.shape() == x.shape(), op, ": residual ", describe(residual),
              " must have the input's shape ", describe(x), " (no broadcasting)");
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
               ptr(bias), ptr(residual), relu, kernel_data<T>(y));
  });
  // Saved: x, and y only where a ReLU masks the gradient.
  Tensor xd = x.detach(), wd = weight.defined() ? weight.detach() : Tensor();
  Tensor yd = relu ? y.detach() : Tensor();
  const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
             gbias = bias.defined() && bias.requires_grad(),
             gres = residual.defined() && residual.requires_grad();
  std::vector<Tensor> inputs{x, weight, bias};
  if (relu) inputs.push_back(residual);
  const size_t n_inputs = inputs.size();
  record(op, inputs, y, [=](const Tensor& g) {
    Grads grads(n_inputs);
    if (gx) grads[0] = empty_like(g);
    if (gw) grads[1] = empty_of({c}, g);
    if (gbias) grads[2] = empty_of({c}, g);
    const char* bop = relu ? "batch_norm2d_relu_backward" : "batch_norm2d_backward";
    if (relu) check_same_device(bop, {&g, &yd});
    dispatch_float(bop, g.dtype(), [&](auto t) {
      using T = decltype(t);
      auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
      // The residual's gradient is the masked one itself: materialised once,
      // it is also the normalisation's. Without it, the mask is applied as
      // the normalisation's backward reads g (no masked copy written).
      Tensor upstream = g;
      const T* relu_y = ptr(yd);
      if (gres) {
        upstream = grads[3] = empty_like(g);
        DML_KERNEL(g.device(), relu_backward<T>, kernel_data<T>(g), relu_y,
                   kernel_data<T>(upstream), g.numel());
        relu_y = nullptr;
      }
      if (!gx && !gw && !gbias) return;
      DML_KERNEL(g.device(), batch_norm_backward<T>, kernel_data<T>(upstream), relu_y,
                 kernel_data<T>(xd), n, c, hw, kernel_data<T>(mean), kernel_data<T>(invstd),
                 ptr(wd), training, ptr(grads[0]), ptr(grads[1]), ptr(grads[2]));
    });
    return grads;
  });
  return y;
}

}  // namespace

Tensor batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Tensor& running_mean, const Tensor& running_var, bool training,
                    double momentum, double eps) {
  return batch_norm_forward("batch_norm2d", x, weight, bias, running_mean, running_var, training,
                            momentum, eps, Tensor(), false);
}

Tensor batch_norm2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& running_mean, const Tensor& running_var, bool training,
                         double momentum, double eps, const Tensor& residual) {
  return batch_norm_forward("batch_norm2d_relu", x, weight, bias, running_mean, running_var,
                            training, momentum, eps, residual, true);
}

}  // namespace dml
