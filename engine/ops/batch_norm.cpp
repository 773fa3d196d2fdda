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
//
// bf16 activations (autocast, engine/autocast.h): x, the residual, y, dy and
// dx may be bf16 while the weight, bias and running statistics stay f32, as
// in PyTorch's autocast. The kernels widen each bf16 element to f32, compute
// exactly as the f32 op would on the widened values (statistics in double,
// the rest in f32) and round each output element to bf16 once
// (kernels/storage_math.h); dweight and dbias are f32.
#include "kernels/cpu/batch_norm.h"

#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/batch_norm.h"
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
  check_float_or_bf16(op, x);
  check_dim(op, "input", x, 4);
  const int64_t n = x.shape()[0], c = x.shape()[1], hw = x.shape()[2] * x.shape()[3];
  // The per-channel tensors' dtype: the activations' own, f32 for bf16 ones.
  const DType param = x.dtype() == DType::bf16 ? DType::f32 : x.dtype();
  for (const Tensor* t : {&weight, &bias, &running_mean, &running_var}) {
    if (!t->defined()) continue;
    check_same_device(op, {&x, t});
    DML_CHECK(t->dtype() == param, op, ": per-channel tensor ", describe(*t), " must be ",
              dtype_name(param), " for input ", describe(x),
              " (bf16 activations take f32 parameters and running statistics)");
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
  Tensor mean = Tensor::empty({c}, param, device), invstd = Tensor::empty({c}, param, device),
         y = empty_like(x);
  dispatch_float_or_bf16(op, x.dtype(), [&](auto s) {
    using S = decltype(s);         // the activations' storage
    using T = kernels::math_t<S>;  // the parameters' and the arithmetic's
    T* m = kernel_data<T>(mean);
    T* is = kernel_data<T>(invstd);
    T* rm = kernel_data<T>(running_mean);
    T* rv = kernel_data<T>(running_var);
    if (training) {
      Tensor var = Tensor::empty({c}, param, device);
      DML_KERNEL(device, batch_norm_stats<S>, kernel_data<S>(x), n, c, hw, m, kernel_data<T>(var));
      DML_KERNEL(device, batch_norm_update_running<T>, m, kernel_data<T>(var), c, n * hw, momentum,
                 eps, rm, rv, is);
    } else {
      DML_KERNEL(device, batch_norm_running_stats<T>, rm, rv, c, eps, m, is);
    }
    auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
    DML_KERNEL(device, batch_norm_apply<S>, kernel_data<S>(x), n, c, hw, m, is, ptr(weight),
               ptr(bias), residual.defined() ? kernel_data<S>(residual) : nullptr, relu,
               kernel_data<S>(y));
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
    if (gw) grads[1] = Tensor::empty({c}, param, g.device());
    if (gbias) grads[2] = Tensor::empty({c}, param, g.device());
    const char* bop = relu ? "batch_norm2d_relu_backward" : "batch_norm2d_backward";
    if (relu) check_same_device(bop, {&g, &yd});
    DML_CHECK(g.dtype() == xd.dtype(), bop, ": gradient ", describe(g),
              " must have the input's dtype ", dtype_name(xd.dtype()));
    dispatch_float_or_bf16(bop, g.dtype(), [&](auto s) {
      using S = decltype(s);
      using T = kernels::math_t<S>;
      auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
      auto sptr = [](const Tensor& u) { return u.defined() ? kernel_data<S>(u) : nullptr; };
      // The residual's gradient is the masked one itself: materialised once,
      // it is also the normalisation's. Without it, the mask is applied as
      // the normalisation's backward reads g (no masked copy written).
      Tensor upstream = g;
      const S* relu_y = sptr(yd);
      if (gres) {
        upstream = grads[3] = empty_like(g);
        DML_KERNEL(g.device(), batch_norm_relu_mask<S>, kernel_data<S>(g), relu_y,
                   kernel_data<S>(upstream), g.numel());
        relu_y = nullptr;
      }
      if (!gx && !gw && !gbias) return;
      DML_KERNEL(g.device(), batch_norm_backward<S>, kernel_data<S>(upstream), relu_y,
                 kernel_data<S>(xd), n, c, hw, kernel_data<T>(mean), kernel_data<T>(invstd),
                 ptr(wd), training, sptr(grads[0]), ptr(grads[1]), ptr(grads[2]));
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
