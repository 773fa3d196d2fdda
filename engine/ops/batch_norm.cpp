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
//
// Synchronised (a BatchNormSync installed, engine/batch_norm_sync.h, and
// training): the forward sums every rank's count, mean and biased variance
// (from x widened to double) into the global batch's statistics, which normalise and update the
// running ones (unbiased with the global count); the backward sums the
// ranks' sum(dy) and sum(dy * xhat) (the kernel's local dbias and dweight)
// and computes dx from them as the kernel's training backward does from its
// own. One sum each way per layer; the parameters' gradients stay local.
#include "kernels/cpu/batch_norm.h"

#include <cmath>
#include <type_traits>
#include <utility>

#include "engine/batch_norm_sync.h"
#include "engine/kernel_dispatch.h"
#include "engine/ops/common.h"

#ifdef DML_WITH_CUDA
#include "kernels/cuda/batch_norm.h"
#endif

namespace dml {

using namespace ops;
using Grads = std::vector<Tensor>;

namespace {

// The global batch's per-channel mean and biased variance (in `param`, the
// per-channel tensors' dtype) and its count, from x [n, c, hw] on every
// rank: one sum over the ranks of [count, count * mean, count * (var +
// mean^2)], in double. This rank's statistics come from x widened to double
// and are not rounded before they are combined: a mean rounded to f32
// would carry its rounding, times mean / std, into every normalised value,
// a gap from one process's statistics (double sums, rounded once) that
// grows through training.
struct GlobalStats {
  Tensor mean, var;
  int64_t count;
};
GlobalStats global_stats(BatchNormSync& sync, const Tensor& x, DType param) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3), count = n * hw;
  const Device device = x.device();
  const Tensor wide = x.detach().to(DType::f64);
  Tensor m = Tensor::empty({c}, DType::f64, device), v = Tensor::empty({c}, DType::f64, device);
  DML_KERNEL(device, batch_norm_stats<double>, kernel_data<double>(wide), n, c, hw,
             kernel_data<double>(m), kernel_data<double>(v));
  Tensor sums = concat({full({1}, double(count), DType::f64, device), m * double(count),
                        (v + m * m) * double(count)},
                       0);
  sync.sum(sums);
  const int64_t total = std::llround(sums.slice(0, 1).item());
  const Tensor global_mean = narrow(sums, 0, 1, c) / double(total);
  // E[x^2] - mean^2 may round below 0 where the variance is 0.
  const Tensor global_var = clamp(
      narrow(sums, 0, 1 + c, c) / double(total) - global_mean * global_mean, 0.0, std::nullopt);
  return {global_mean.to(param), global_var.to(param), total};
}

// The global batch's per-channel means of dy * xhat and of dy ([c], in the
// per-channel dtype t): this rank's sums (the kernel's dweight and dbias)
// summed over the ranks, over the global count.
std::pair<Tensor, Tensor> global_grad_means(BatchNormSync& sync, const Tensor& sum_dy_xhat,
                                            const Tensor& sum_dy, int64_t count, DType t) {
  const int64_t c = sum_dy.size(0);
  Tensor sums = concat({sum_dy_xhat.to(DType::f64), sum_dy.to(DType::f64)}, 0);
  sync.sum(sums);
  return {(narrow(sums, 0, 0, c) / double(count)).to(t),
          (narrow(sums, 0, c, c) / double(count)).to(t)};
}

// f32 and f64: dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)),
// written over `dx`, which holds the kernel's eval-mode gradient gamma *
// invstd * dy, by one batch_norm_apply pass: its affine (x - mean) * invstd
// * a + b with a = -gamma * invstd * mean(dy * xhat) and b = -gamma *
// invstd * mean(dy), plus dx as the residual.
void add_global_terms(BatchNormSync& sync, Tensor& dx, const Tensor& x, const Tensor& mean,
                      const Tensor& invstd, const Tensor& gamma, const Tensor& sum_dy_xhat,
                      const Tensor& sum_dy, int64_t count) {
  const auto [mean_dy_xhat, mean_dy] =
      global_grad_means(sync, sum_dy_xhat, sum_dy, count, mean.dtype());
  const Tensor scale = gamma.defined() ? invstd * gamma : invstd;
  const Tensor a = -(scale * mean_dy_xhat), b = -(scale * mean_dy);
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  dispatch_float("batch_norm2d_backward", x.dtype(), [&](auto s) {
    using T = decltype(s);
    DML_KERNEL(x.device(), batch_norm_apply<T>, kernel_data<T>(x), n, c, hw, kernel_data<T>(mean),
               kernel_data<T>(invstd), kernel_data<T>(a), kernel_data<T>(b), kernel_data<T>(dx),
               false, kernel_data<T>(dx));
  });
}

// bf16 activations: the same gradient from engine ops in f32 on the masked
// upstream dy, rounded to bf16 once (the eval-mode dx of the fused path
// would be rounded to bf16 before the global terms are added).
Tensor global_input_grad(BatchNormSync& sync, const Tensor& dy, const Tensor& x, const Tensor& mean,
                         const Tensor& invstd, const Tensor& gamma, const Tensor& sum_dy_xhat,
                         const Tensor& sum_dy, int64_t count) {
  const int64_t c = mean.size(0);
  const DType t = mean.dtype();
  auto per_channel = [c](const Tensor& v) { return v.reshape({1, c, 1, 1}); };
  const auto [mean_dy_xhat, mean_dy] = global_grad_means(sync, sum_dy_xhat, sum_dy, count, t);
  const Tensor is = per_channel(invstd);
  const Tensor scale = gamma.defined() ? is * per_channel(gamma) : is;
  const Tensor dx = scale * (dy.to(t) - per_channel(mean_dy) -
                             (x.to(t) - per_channel(mean)) * is * per_channel(mean_dy_xhat));
  return dx.to(x.dtype());
}

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
  BatchNormSync* const sync = training ? installed_batch_norm_sync() : nullptr;
  int64_t count = n * hw;  // the values per channel the statistics come from
  dispatch_float_or_bf16(op, x.dtype(), [&](auto s) {
    using S = decltype(s);         // the activations' storage
    using T = kernels::math_t<S>;  // the parameters' and the arithmetic's
    T* rm = kernel_data<T>(running_mean);
    T* rv = kernel_data<T>(running_var);
    if (training) {
      Tensor var;
      if (sync) {
        GlobalStats global = global_stats(*sync, x, param);
        mean = global.mean;
        var = global.var;
        count = global.count;
      } else {
        var = Tensor::empty({c}, param, device);
        DML_KERNEL(device, batch_norm_stats<S>, kernel_data<S>(x), n, c, hw, kernel_data<T>(mean),
                   kernel_data<T>(var));
      }
      DML_KERNEL(device, batch_norm_update_running<T>, kernel_data<T>(mean), kernel_data<T>(var), c,
                 count, momentum, eps, rm, rv, kernel_data<T>(invstd));
    } else {
      DML_KERNEL(device, batch_norm_running_stats<T>, rm, rv, c, eps, kernel_data<T>(mean),
                 kernel_data<T>(invstd));
    }
    auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
    DML_KERNEL(device, batch_norm_apply<S>, kernel_data<S>(x), n, c, hw, ptr(mean), ptr(invstd),
               ptr(weight), ptr(bias), residual.defined() ? kernel_data<S>(residual) : nullptr,
               relu, kernel_data<S>(y));
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
    DML_CHECK(!sync || installed_batch_norm_sync() == sync, bop,
              ": the forward summed its statistics over the ranks, but the backward runs without "
              "the same BatchNormSync installed (keep one BatchNormSyncScope around both)");
    // Only x's gradient needs the other ranks: with it synchronised, every
    // rank sums here (the same layers need x's gradient on every rank).
    const bool global = sync && gx;
    dispatch_float_or_bf16(bop, g.dtype(), [&](auto s) {
      using S = decltype(s);
      using T = kernels::math_t<S>;
      auto ptr = [](const Tensor& u) { return u.defined() ? kernel_data<T>(u) : nullptr; };
      auto sptr = [](const Tensor& u) { return u.defined() ? kernel_data<S>(u) : nullptr; };
      // The residual's gradient is the masked one itself: materialised once,
      // it is also the normalisation's (and the synchronised dx's). Otherwise
      // the mask is applied as the normalisation's backward reads g (no
      // masked copy written).
      // f32 and f64 compute the synchronised dx with the kernels
      // (add_global_terms), bf16 with engine ops on the masked upstream.
      constexpr bool kKernelsOnly = std::is_same_v<S, T>;
      Tensor upstream = g;
      const S* relu_y = sptr(yd);
      if (relu_y && (gres || (global && !kKernelsOnly))) {
        upstream = empty_like(g);
        DML_KERNEL(g.device(), batch_norm_relu_mask<S>, kernel_data<S>(g), relu_y,
                   kernel_data<S>(upstream), g.numel());
        relu_y = nullptr;
        if (gres) grads[3] = upstream;
      }
      if (!gx && !gw && !gbias) return;
      // Synchronised, the kernel gives this rank's sums (dweight, dbias)
      // and dx comes from the ranks' sums of them.
      const Tensor dweight = global && !gw ? Tensor::empty({c}, param, g.device()) : grads[1];
      const Tensor dbias = global && !gbias ? Tensor::empty({c}, param, g.device()) : grads[2];
      // The kernel's own dx: the whole gradient in one process; with the
      // ranks synchronised, the eval-mode part (f32, f64) or none (bf16).
      const bool kernel_dx = gx && (!global || kKernelsOnly);
      DML_KERNEL(g.device(), batch_norm_backward<S>, kernel_data<S>(upstream), relu_y,
                 kernel_data<S>(xd), n, c, hw, kernel_data<T>(mean), kernel_data<T>(invstd),
                 ptr(wd), training && !global, kernel_dx ? sptr(grads[0]) : nullptr, ptr(dweight),
                 ptr(dbias));
      if (global && kKernelsOnly)
        add_global_terms(*sync, grads[0], xd, mean, invstd, wd, dweight, dbias, count);
      else if (global)
        grads[0] = global_input_grad(*sync, upstream, xd, mean, invstd, wd, dweight, dbias, count);
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
